"""Real probes from one network namespace (run it inside the namespace).

Usage: probe.py TARGETS.json  ->  prints a JSON list of results.
A target is {"dst": ADDR, "port": N, "proto": "tcp"|"udp"}. TCP sends an HTTP
request and records who answered (the lab's servers answer with their
container name); UDP sends one datagram and records the reply. Anything that
does not answer within the timeout is "closed": a drop and a reject look the
same to a client, and reachability is what is measured.
"""
import json
import socket
import sys
from concurrent.futures import ThreadPoolExecutor

TIMEOUT = 1.5


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def tcp(t):
    try:
        with socket.create_connection((t["dst"], t["port"]), timeout=TIMEOUT) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        body = data.split(b"\r\n\r\n", 1)[-1].decode(errors="replace").strip()
        return "open", body
    except OSError:
        return "closed", ""


def udp(t):
    s = socket.socket(family(t["dst"]), socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    try:
        s.sendto(b"probe", (t["dst"], t["port"]))
        return "open", s.recv(2048).decode(errors="replace").strip()
    except OSError:
        return "closed", ""
    finally:
        s.close()


def run(t):
    result, answer = (tcp if t["proto"] == "tcp" else udp)(t)
    return dict(t, result=result, answer=answer)


targets = json.load(open(sys.argv[1]))
with ThreadPoolExecutor(max_workers=64) as pool:
    print(json.dumps(list(pool.map(run, targets))))
