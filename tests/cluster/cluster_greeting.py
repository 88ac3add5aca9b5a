"""The greeting two nodes' gates exchange before any BASP byte
(net/cluster_handshake.hpp), written here from its description so the
tests can speak to a node port as a node holding the cluster secret would,
or with another secret, or as whatever answers at a peer's address.

  dialing -> dialed   hello:   magic, nonce_dialing            48 bytes
  dialed  -> dialing  answer:  magic, nonce_dialed, proof      80 bytes
  dialing -> dialed   proof                                    32 bytes

Each proof is HMAC-SHA256 under the secret over its sender's label and
both nonces, the dialing end's first.
"""

import hashlib
import hmac
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "interop"))
from batchcast_node import CLUSTER_SECRET  # noqa: E402

MAGIC = b"batchcast-node/1"
NONCE = 32
PROOF = 32
HELLO_SIZE = len(MAGIC) + NONCE
ANSWER_SIZE = len(MAGIC) + NONCE + PROOF
# What the dialing end sends before its first BASP byte.
DIALING_GREETING_SIZE = HELLO_SIZE + PROOF
DIALING_LABEL = b"batchcast cluster: dialing node"
DIALED_LABEL = b"batchcast cluster: dialed node"


class GreetingRefused(Exception):
    """The other end closed the connection, or its proof did not hold."""


def proof(secret, label, dialing_nonce, dialed_nonce):
    return hmac.new(secret.encode(), label + dialing_nonce + dialed_nonce,
                    hashlib.sha256).digest()


def read_exactly(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise GreetingRefused(
                f"closed after {len(data)} of {size} bytes")
        data += chunk
    return data


def greet_as_dialing(sock, secret=CLUSTER_SECRET, check_answer=True):
    """Greets the node gate at the other end of `sock` as a dialing node
    holding `secret`. Raises GreetingRefused when the node's proof does not
    hold under `secret` (unless `check_answer` is false, which sends a
    proof made with `secret` whatever the node proved)."""
    own = os.urandom(NONCE)
    sock.sendall(MAGIC + own)
    answer = read_exactly(sock, ANSWER_SIZE)
    if answer[:len(MAGIC)] != MAGIC:
        raise GreetingRefused(f"answer without the magic: {answer[:16]!r}")
    theirs = answer[len(MAGIC):len(MAGIC) + NONCE]
    expected = proof(secret, DIALED_LABEL, own, theirs)
    if check_answer and not hmac.compare_digest(expected,
                                                answer[-PROOF:]):
        raise GreetingRefused("the node's proof does not hold")
    sock.sendall(proof(secret, DIALING_LABEL, own, theirs))


def answer_as_dialed(sock, secret=CLUSTER_SECRET):
    """Answers the dial gate at the other end of `sock` as a dialed node
    holding `secret`; returns whether the dialing node's proof held (False
    when it closed instead of sending one)."""
    hello = read_exactly(sock, HELLO_SIZE)
    if hello[:len(MAGIC)] != MAGIC:
        raise GreetingRefused(f"hello without the magic: {hello[:16]!r}")
    theirs = hello[len(MAGIC):]
    own = os.urandom(NONCE)
    sock.sendall(MAGIC + own + proof(secret, DIALED_LABEL, theirs, own))
    try:
        received = read_exactly(sock, PROOF)
    except (GreetingRefused, ConnectionError):
        return False
    return hmac.compare_digest(received,
                               proof(secret, DIALING_LABEL, theirs, own))
