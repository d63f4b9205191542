"""Answers every TCP connection on the given ports with NAME:PORT (an HTTP
reply), on IPv4 and IPv6, so a probe sees which server and port answered.
Usage: tcp_answer.py NAME PORT [PORT...]. Runs until killed."""
import socket
import sys
import threading

name = sys.argv[1].encode()


def serve(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    s.listen(64)
    while True:
        c, _ = s.accept()
        try:
            c.settimeout(2)
            c.recv(1024)
            c.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + name + b":" + str(port).encode() + b"\n")
        except OSError:
            pass
        finally:
            c.close()


for p in sys.argv[2:]:
    threading.Thread(target=serve, args=(int(p),), daemon=True).start()
threading.Event().wait()
