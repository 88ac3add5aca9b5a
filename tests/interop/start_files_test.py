"""The files `batchcast serve` reads at start, given as an operator might
get them wrong or as a deployment tool hands them over:

- a path that never ends (/dev/zero) as a secret, a key, a certificate or
  the config file: refused with a reason, promptly, in bounded memory;
- a FIFO nobody writes to as the TLS key: the start waits for it, and
  SIGTERM still ends the process; written later, the key is used;
- a setting given twice in the config file: refused, naming both lines;
- an expired certificate: the service starts and the log says so;
- a certificate file holding a chain: the intermediate is sent, so a
  client that trusts only the root accepts it;
- /dev/zero as the CA file of `watch` and `publish`: refused the same way;
- /dev/null or a folder as the state database: refused before anything is
  written next to it (and not warned about as readable by every user); a
  state database every user can read, holding the embedded directory:
  warned about;
- a publish token no Authorization header can carry, an empty
  allowed-hosts, a numeric setting that is no number, a node name that
  could forge log lines or is blank or too long: refused, saying which
  and why;
- an empty path (`--db ""`), one address for both listeners, a --peer
  given twice, a config file naming another with `config =`: refused at
  start, saying which.

Usage: start_files_test.py PATH_TO_BATCHCAST
"""

import datetime
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from batchcast_node import TOKEN, free_port, listening, run_tests  # noqa: E402

SECRET = "start-files-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"


def write_private(path, text):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(text)


def sign(name, key, not_before, not_after, issuer=None, is_ca=False):
    """A certificate for `name` (also its DNS name) holding `key`'s public
    half, signed by issuer = (certificate, key), else self-signed."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, signing_key = (issuer[0].subject, issuer[1]) if issuer \
        else (subject, key)
    return (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None),
                       critical=True)
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(name)]), critical=False)
        .sign(signing_key, hashes.SHA256()))


def write_pair(folder, name, certificates, key):
    """Writes the certificates (in order) and the key; returns the paths."""
    cert_path = os.path.join(folder, f"{name}.pem")
    key_path = os.path.join(folder, f"{name}.key")
    with open(cert_path, "wb") as f:
        for certificate in certificates:
            f.write(certificate.public_bytes(serialization.Encoding.PEM))
    write_private(key_path, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode())
    return cert_path, key_path


def make_certificate(folder, name, not_before, not_after):
    """A self-signed P-256 certificate for localhost valid between the two
    datetimes; returns (cert path, key path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = sign("localhost", key, not_before, not_after)
    return write_pair(folder, name, [certificate], key)


def make_chain(folder, name, not_before, not_after):
    """root -> intermediate -> server for localhost. Writes the server's
    certificate followed by the intermediate (a "fullchain" file) and the
    server's key; returns (chain path, key path, root path)."""
    root_key, middle_key, server_key = (
        ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = sign("test root", root_key, not_before, not_after, is_ca=True)
    middle = sign("test intermediate", middle_key, not_before, not_after,
                  issuer=(root, root_key), is_ca=True)
    server = sign("localhost", server_key, not_before, not_after,
                  issuer=(middle, middle_key))
    root_path = os.path.join(folder, f"{name}-root.pem")
    with open(root_path, "wb") as f:
        f.write(root.public_bytes(serialization.Encoding.PEM))
    return (*write_pair(folder, name, [server, middle], server_key),
            root_path)


class Setup:
    def __init__(self, binary, folder):
        self.binary = binary
        self.folder = folder
        self.secret_file = os.path.join(folder, "secret_key")
        write_private(self.secret_file, SECRET + "\n")
        now = datetime.datetime.now(datetime.timezone.utc)
        day = datetime.timedelta(days=1)
        self.cert, self.key = make_certificate(folder, "current", now - day,
                                               now + day)
        self.expired_cert, self.expired_key = make_certificate(
            folder, "expired", now - 10 * day, now - day)
        self.chain, self.chain_key, self.root = make_chain(
            folder, "chained", now - day, now + day)
        self.env = dict(os.environ, BATCHCAST_PUBLISH_TOKEN=TOKEN)
        self.env.pop("BATCHCAST_SECRET_KEY", None)
        self.env.pop("BATCHCAST_CLUSTER_SECRET", None)

    def command(self, *flags, secret_key_file=None):
        self.public_port = free_port()
        self.internal_port = free_port()
        return [self.binary, "serve",
                "--db", os.path.join(self.folder, "state.db"),
                "--secret-key-file", secret_key_file or self.secret_file,
                "--listen", f"127.0.0.1:{self.public_port}",
                "--internal-listen", f"127.0.0.1:{self.internal_port}",
                *flags]


def wait_until_listening(setup, process):
    deadline = time.monotonic() + 20
    while not listening(setup.internal_port):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "serve never listened"
        time.sleep(0.1)


def serve_then_stop(setup, command, while_serving=lambda: None, env=None):
    """Starts `command` (a serve), waits until it listens, runs
    `while_serving`, then stops it with SIGTERM. Returns its output, once
    it has exited 0."""
    process = subprocess.Popen(command, env=env or setup.env,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        wait_until_listening(setup, process)
        while_serving()
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    return output


def assert_healthz_over_tls(port, trusted):
    """GET /healthz answers 200 to a client that trusts only the
    certificates in the file `trusted` and checks the name localhost."""
    trusting = ssl.create_default_context(cafile=trusted)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with trusting.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n"
                        b"Connection: close\r\n\r\n")
            status = int(tls.recv(64).split()[1])
    assert status == 200, status


def test_endless_files_are_refused_promptly(setup):
    cases = [
        (["--publish-token-file", "/dev/zero"], {},
         "cannot read secret file /dev/zero: larger than"),
        (["--metrics-token-file", "/dev/zero"], {},
         "cannot read secret file /dev/zero: larger than"),
        (["--secret-key-fallbacks-file", "/dev/zero"], {},
         "cannot read secret file /dev/zero: larger than"),
        ([], {"secret_key_file": "/dev/zero"},
         "cannot read secret file /dev/zero: larger than"),
        (["--config", "/dev/zero"], {},
         "cannot read config file /dev/zero: larger than"),
        (["--tls-cert", "/dev/zero", "--tls-key", setup.key], {},
         "cannot read TLS certificate file /dev/zero: larger than"),
        (["--tls-cert", setup.cert, "--tls-key", "/dev/zero"], {},
         "cannot read TLS key file /dev/zero: larger than"),
    ]
    env = dict(setup.env)
    env.pop("BATCHCAST_PUBLISH_TOKEN")
    for flags, options, reason in cases:
        command = setup.command(*flags, **options)
        if "--publish-token-file" not in flags:
            command += ["--publish-token-file", setup.secret_file]
        # A start that read without a bound would grow by gigabytes a
        # second; the timeout ends it (no address-space limit here: a
        # sanitizer build reserves terabytes of it).
        result = subprocess.run(command, env=env, capture_output=True,
                                text=True, timeout=15)
        assert result.returncode == 2, (flags, result)
        last = result.stderr.strip().splitlines()[-1]
        assert reason in last, (flags, last)
        assert "listening" not in result.stderr, (flags, result.stderr)


def test_a_fifo_key_nobody_writes_blocks_only_until_sigterm(setup):
    fifo = os.path.join(setup.folder, "key.fifo")
    os.mkfifo(fifo, 0o600)
    try:
        process = subprocess.Popen(
            setup.command("--tls-cert", setup.cert, "--tls-key", fifo),
            env=setup.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        time.sleep(1.5)
        assert process.poll() is None, process.communicate()
        assert not listening(setup.internal_port)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError("serve ignored SIGTERM while it waited "
                                 "for the key")
        assert process.returncode == -signal.SIGTERM, process.returncode
    finally:
        os.unlink(fifo)


def test_a_fifo_key_written_later_is_used(setup):
    fifo = os.path.join(setup.folder, "late.fifo")
    os.mkfifo(fifo, 0o600)
    with open(setup.key) as f:
        key = f.read()

    def write_key_late():
        time.sleep(1)
        with open(fifo, "w") as out:  # blocks until serve opens it
            for line in key.splitlines(keepends=True):
                out.write(line)
                out.flush()

    writer = threading.Thread(target=write_key_late, daemon=True)
    writer.start()
    try:
        serve_then_stop(
            setup, setup.command("--tls-cert", setup.cert, "--tls-key", fifo),
            lambda: assert_healthz_over_tls(setup.public_port, setup.cert))
    finally:
        writer.join(timeout=10)
        os.unlink(fifo)


def test_a_setting_given_twice_in_the_config_is_refused(setup):
    config = config_file(setup, "twice.conf",
                         "allowed-hosts = admin.example\n"
                         "log-level = info\n"
                         "allowed_hosts = ws.example\n")
    result = subprocess.run(setup.command("--config", config), env=setup.env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result
    last = result.stderr.strip().splitlines()[-1]
    assert f"{config}:3: `allowed-hosts` is already set on line 1" in last, \
        last


def test_the_log_level_takes_the_name_the_log_prints(setup):
    """The log prints `warning`; an operator copying it got `warning not
    in {trace,...}`."""
    output = serve_then_stop(setup, setup.command("--log-level", "warning"))
    assert "serving node=" not in output, output


def test_an_expired_certificate_is_served_with_a_warning(setup):
    output = serve_then_stop(
        setup, setup.command("--tls-cert", setup.expired_cert,
                             "--tls-key", setup.expired_key))
    assert (f"the TLS certificate in {setup.expired_cert} has expired"
            in output), output
    # Said once per listener that uses it, not per connection.
    assert output.count("has expired") == 1, output


def test_a_chain_file_sends_its_intermediate(setup):
    # Trusting only the root, the client needs the intermediate from the
    # server to build the path.
    serve_then_stop(
        setup, setup.command("--tls-cert", setup.chain,
                             "--tls-key", setup.chain_key),
        lambda: assert_healthz_over_tls(setup.public_port, setup.root))


def test_client_tools_refuse_an_endless_ca_file(setup):
    batch = "8b5a6bd2-4d32-4b5e-9d53-3b7f5d2c9a10"
    port = free_port()  # nothing listens: the file is refused first
    for command in (
            ["watch", batch, "--url", f"wss://127.0.0.1:{port}",
             "--session", "x", "--ca-file", "/dev/zero"],
            ["publish", batch, "completed", "--url",
             f"https://127.0.0.1:{port}", "--token", TOKEN,
             "--ca-file", "/dev/zero"]):
        result = subprocess.run([setup.binary, *command], env=setup.env,
                                capture_output=True, text=True, timeout=15)
        assert result.returncode != 0, result
        assert "cannot read CA file /dev/zero: larger than" in \
            result.stderr, result.stderr


def test_a_state_database_that_is_no_file_is_refused(setup):
    for path, reason in (("/dev/null", "not a regular file"),
                         (setup.folder, "it is a folder")):
        command = setup.command()
        command[command.index("--db") + 1] = path
        result = subprocess.run(command, env=setup.env, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode != 0, result
        last = result.stderr.strip().splitlines()[-1]
        assert f"cannot open state database {path}: {reason}" in last, last
        # /dev/null is mode 666, but holds nothing to read.
        assert "every user" not in result.stderr, result.stderr
        made = [path + suffix for suffix in (".lock", "-journal", "-wal",
                                             "-shm")
                if os.path.exists(path + suffix)]
        assert not made, f"made {made} next to {path}"


def test_a_state_database_anyone_can_read_is_warned_about(setup):
    exposed = os.path.join(setup.folder, "exposed.db")
    with open(exposed, "w"):
        pass
    os.chmod(exposed, 0o644)
    command = setup.command()
    command[command.index("--db") + 1] = exposed
    output = serve_then_stop(setup, command)
    assert (f"--db {exposed} can be read by every user of this machine "
            "(mode 644)") in output, output


def config_file(setup, name, text):
    """A config file `name` in the setup's folder holding `text`."""
    path = os.path.join(setup.folder, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def refused_start(setup, *flags, env=None):
    """Runs serve with `flags`, which must refuse to start; returns what
    it printed."""
    result = subprocess.run(setup.command(*flags), env=env or setup.env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result
    return result.stderr


def test_a_token_no_client_can_send_is_refused(setup):
    sent = "start-files-token-0123456789"
    for token, why in ((sent + "\n", "begins or ends with whitespace"),
                       (" " + sent, "begins or ends with whitespace"),
                       (sent[:5] + " " + sent, "holds a space at character 6"),
                       (sent[:5] + "\x1b" + sent, "a control character")):
        env = dict(setup.env, BATCHCAST_PUBLISH_TOKEN=token)
        said = refused_start(setup, env=env)
        assert ("the publish-token in BATCHCAST_PUBLISH_TOKEN cannot be sent "
                "in an Authorization header: it " in said), said
        assert why in said, said
        assert sent not in said, said
    token_file = os.path.join(setup.folder, "spaced_token")
    write_private(token_file, sent + " \n")
    env = dict(setup.env)
    del env["BATCHCAST_PUBLISH_TOKEN"]
    said = refused_start(setup, "--publish-token-file", token_file, env=env)
    assert (f"the publish-token in the file {token_file} "
            "(publish-token-file) cannot be sent" in said), said
    assert sent not in said, said


def test_the_publish_command_refuses_such_a_token_too(setup):
    port = free_port()  # nothing listens: the token is refused first
    result = subprocess.run(
        [setup.binary, "publish", "8b5a6bd2-4d32-4b5e-9d53-3b7f5d2c9a10",
         "completed", "--url", f"http://127.0.0.1:{port}",
         "--token", "start files token"],
        env=setup.env, capture_output=True, text=True, timeout=15)
    assert result.returncode == 2, result
    assert ("the token in --token cannot be sent in an Authorization "
            "header: it holds a space" in result.stderr), result.stderr
    assert "start files token" not in result.stderr, result.stderr


def test_empty_allowed_hosts_are_refused(setup):
    config = config_file(setup, "no_hosts.conf",
                         "allowed-hosts =\n")
    for flags in (["--config", config], ["--allowed-hosts", ""],
                  ["--allowed-hosts", " , "]):
        said = refused_start(setup, *flags)
        assert "--allowed-hosts is empty" in said, (flags, said)
        assert "give * to allow any Origin" in said, (flags, said)


def test_a_numeric_setting_that_is_no_number_says_so(setup):
    config = config_file(setup, "ttl.conf",
                         "session-ttl = abc\n")
    said = refused_start(setup, "--config", config)
    assert "--session-ttl: `abc` is not a whole number" in said, said
    said = refused_start(setup, "--max-connections", "1.5")
    assert "--max-connections: `1.5` is not a whole number" in said, said
    said = refused_start(setup, "--session-ttl", "99999")
    assert "--session-ttl: `99999` is out of range: give 0 to 3600" in said, \
        said


def test_a_number_with_leading_zeros_is_read_in_decimal(setup):
    """`010` once meant 8 (read as octal) and `09` was refused with a
    bare "Could not convert", from the command line, the environment and
    the config file alike."""
    config = config_file(setup, "zeros.conf",
                         "max-connections-per-address = 0100\n")
    output = serve_then_stop(
        setup, setup.command("--config", config, "--max-connections", "010",
                             "--session-ttl", "09"))
    assert "max_connections=10 per_address=100;" in output, output
    output = serve_then_stop(
        setup, setup.command(),
        env=dict(setup.env, BATCHCAST_MAX_CONNECTIONS="0012"))
    assert "max_connections=12 " in output, output


def test_a_cluster_secret_without_a_node_port_is_warned_about(setup):
    """An operator who meant to join a cluster but left out --node-port
    once got a lone node and not a word."""
    output = serve_then_stop(
        setup, setup.command(),
        env=dict(setup.env, BATCHCAST_CLUSTER_SECRET="c" * 32))
    assert "a cluster secret is given (BATCHCAST_CLUSTER_SECRET) but no " \
        "--node-port: this node runs alone" in output, output
    assert "c" * 32 not in output, output


def test_settings_that_would_refuse_every_watcher_are_refused(setup):
    """An empty or impossible cookie name, or backends that are only
    commas, once started a node that refused every session; an empty
    --config once started on the defaults."""
    for flags, said_part in (
            (["--session-cookie-name", ""], "--session-cookie-name is empty"),
            (["--session-cookie-name", "a b"],
             "a character a cookie name cannot"),
            (["--auth-backends", " , "], "names no backend"),
            (["--auth-backends", ""], "--auth-backends is empty"),
            (["--config", ""], "--config is empty")):
        said = refused_start(setup, *flags)
        assert said_part in said, (flags, said)


def replaced(command, flag, value):
    """`command` with the value after `flag` replaced."""
    command = list(command)
    command[command.index(flag) + 1] = value
    return command


def refused_command(setup, command):
    result = subprocess.run(command, env=setup.env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2, result
    return result.stderr


def test_an_empty_path_is_refused_naming_it(setup):
    said = refused_command(setup, replaced(setup.command(), "--db", ""))
    assert "--db is empty (on the command line, or as `db =` in the " \
        "config file): name a file" in said, said
    assert "cannot open state database" not in said, said
    config = config_file(setup, "empty_key.conf",
                         "tls-key =\n")
    said = refused_start(setup, "--config", config)
    assert "--tls-key is empty" in said, said


def test_a_db_sqlite_reads_as_no_file_is_refused(setup):
    """`file:x.db` was a URI to SQLite (the file x.db) but a file named
    `file:x.db` to the one-serve-per-file claim: two serves ran on x.db
    at once. `:memory:` left files named `:memory:` behind."""
    for name, words in (("file:uri.db", "SQLite takes it for a URI"),
                        (":memory:", "SQLite takes it for a database in "
                                     "memory")):
        said = refused_command(setup, replaced(setup.command(), "--db", name))
        assert words in said, said
        assert not os.path.exists(name), name
        assert not os.path.exists(name + ".lock"), name


def test_an_empty_node_name_is_refused(setup):
    """Left empty, it would stand for the default HOSTNAME:PID, a name
    that changes with every restart."""
    said = refused_start(setup, "--node-name", "")
    assert "--node-name is empty (on the command line, or as `node-name =` " \
        "in the config file): give it 1 to 255 bytes of text" in said, said
    config = config_file(setup, "empty_name.conf",
                         "node-name =\n")
    said = refused_start(setup, "--config", config)
    assert "--node-name is empty" in said, said


def test_an_empty_variable_for_a_file_or_name_is_refused(setup):
    """An empty BATCHCAST_DB (a unit file whose value went missing) once
    counted as unset: serve started on a fresh ./batchcast.db."""
    without_db = setup.command()
    at = without_db.index("--db")
    del without_db[at:at + 2]
    for variable, command, words in (
            ("BATCHCAST_DB", without_db, "name a file"),
            ("BATCHCAST_NODE_NAME", setup.command(), "bytes of text")):
        result = subprocess.run(command, env=dict(setup.env, **{variable: ""}),
                                cwd=setup.folder, capture_output=True,
                                text=True, timeout=60)
        said = result.stderr
        assert result.returncode == 2, (variable, result)
        assert f"{variable} is set but empty: " in said and words in said, \
            (variable, said)
    assert not os.path.exists(os.path.join(setup.folder, "batchcast.db"))


def test_one_address_for_both_listeners_is_refused(setup):
    command = setup.command()
    public = command[command.index("--listen") + 1]
    port = public.rsplit(":", 1)[1]
    # The same text, a name for the same address, and a wildcard.
    for internal in (public, f"localhost:{port}", f"0.0.0.0:{port}"):
        said = refused_command(
            setup, replaced(command, "--internal-listen", internal))
        assert "would listen on one address: the two listeners cannot " \
            "share one" in said, (internal, said)
        assert "Address already in use" not in said, said


def test_a_node_port_shared_with_a_listener_is_refused(setup):
    for flag in ("--listen", "--internal-listen"):
        command = setup.command()
        address = command[command.index(flag) + 1]
        port = address.rsplit(":", 1)[1]
        said = refused_command(setup, command + ["--node-port", port])
        assert f"--node-port {port} is also the port of {flag} {address}" \
            in said, said
        assert "Address already in use" not in said, said
    # A wildcard node host takes the port on the listeners' host too.
    command = setup.command()
    port = command[command.index("--listen") + 1].rsplit(":", 1)[1]
    said = refused_command(setup, command + ["--node-port", port,
                                             "--node-host", "0.0.0.0"])
    assert "is also the port of --listen" in said, said


def test_a_bracketed_ipv6_node_host_is_taken(setup):
    """--node-host is written like the address in --listen and --peer:
    `[::1]` once failed with "Host not found"."""
    port = free_port()
    process = subprocess.Popen(
        setup.command("--node-port", str(port), "--node-host", "[::1]"),
        env=dict(setup.env, BATCHCAST_CLUSTER_SECRET="s" * 32),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.stderr.read()
            try:
                socket.create_connection(("::1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "no node port on [::1]"
                time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_peer_given_twice_is_refused_naming_it(setup):
    said = refused_start(setup, "--node-port", str(free_port()),
                         "--peer", "127.0.0.1:4101", "--peer",
                         "127.0.0.1:4102", "--peer", "127.0.0.1:4101")
    assert "--peer 127.0.0.1:4101 is given twice" in said, said


def test_a_peer_that_is_this_node_is_refused(setup):
    """Once taken: the node dialed itself at every retry and showed the
    peer down for ever."""
    port = str(free_port())
    said = refused_start(setup, "--node-port", port, "--peer",
                         f"127.0.0.1:{port}")
    assert f"--peer 127.0.0.1:{port} is this node's own" in said, said
    said = refused_start(setup, "--node-port", port, "--node-host", "[::1]",
                         "--peer", f"[::1]:{port}")
    assert f"--peer [::1]:{port} is this node's own" in said, said


def test_a_peer_no_node_can_have_is_refused(setup):
    """Each was once taken, and shown in GET /cluster as an address no
    node has (`[::1]` reaches serve as `::1`, which read as host `:`)."""
    for peer, words in (("127.0.0.1:0", "port 0 names no node"),
                        ("[::1]", "goes in brackets"),
                        ("a b:4101", "holds a space")):
        said = refused_start(setup, "--node-port", str(free_port()),
                             "--peer", peer)
        assert words in said, (peer, said)


def test_a_node_port_without_a_cluster_secret_is_refused(setup):
    """A clustered node needs the secret its peers' gates check; without
    one it says how to make one, and a secret it cannot use is named by
    where it came from, never quoted."""
    said = refused_start(setup, "--node-port", str(free_port()))
    assert "--node-port needs a cluster secret" in said, said
    assert "--cluster-secret-file" in said and "openssl rand" in said, said

    said = refused_start(setup, "--node-port", str(free_port()),
                         env=dict(setup.env, BATCHCAST_CLUSTER_SECRET="  "))
    assert "BATCHCAST_CLUSTER_SECRET is blank" in said, said

    missing = os.path.join(setup.folder, "no_such_cluster_secret")
    said = refused_start(setup, "--node-port", str(free_port()),
                         "--cluster-secret-file", missing)
    assert missing in said, said

    # An empty file flag names the flag, even with the secret also in the
    # environment.
    said = refused_start(setup, "--node-port", str(free_port()),
                         "--cluster-secret-file", "",
                         env=dict(setup.env,
                                  BATCHCAST_CLUSTER_SECRET="x" * 40))
    assert "--cluster-secret-file is empty" in said, said

    # A line ending carried into the environment would make this node's
    # secret differ from its peers' in silence.
    secret = "a-cluster-secret-of-forty-characters-000"
    for spaced in (secret + "\n", " " + secret, secret + "\t"):
        said = refused_start(setup, "--node-port", str(free_port()),
                             env=dict(setup.env,
                                      BATCHCAST_CLUSTER_SECRET=spaced))
        assert ("the cluster secret in BATCHCAST_CLUSTER_SECRET begins or "
                "ends with whitespace" in said), said
        assert secret not in said, said
    # The node gate's proof can be tested against guesses offline.
    said = refused_start(setup, "--node-port", str(free_port()),
                         env=dict(setup.env,
                                  BATCHCAST_CLUSTER_SECRET="short-secret"))
    assert ("the cluster secret in BATCHCAST_CLUSTER_SECRET is 12 "
            "characters long; use 16 random characters or more") in said, \
        said
    assert "short-secret" not in said, said
    spaced_file = os.path.join(setup.folder, "spaced_cluster_secret")
    write_private(spaced_file, secret + "  \n")
    said = refused_start(setup, "--node-port", str(free_port()),
                         "--cluster-secret-file", spaced_file)
    assert (f"the cluster secret in the file {spaced_file} "
            "(cluster-secret-file) begins or ends with whitespace") in said, \
        said

    two_lines = os.path.join(setup.folder, "two_line_cluster_secret")
    write_private(two_lines, "first-half-of-a-secret\nsecond-half\n")
    said = refused_start(setup, "--node-port", str(free_port()),
                         "--cluster-secret-file", two_lines)
    assert two_lines in said, said
    assert "first-half" not in said and "second-half" not in said, said


def test_a_config_file_naming_another_is_refused(setup):
    other = os.path.join(setup.folder, "other.conf")
    with open(other, "w") as f:
        f.write("session-ttl = 5\n")
    config = config_file(setup, "nested.conf",
                         f"# settings\nconfig = {other}\n")
    said = refused_start(setup, "--config", config)
    assert f"{config}:2: config cannot name another config file" in said, \
        said


def test_an_unusable_node_name_is_refused(setup):
    forged = "evil\n2026-12-05 12:00:00.000 error [app] FAKE \x1b[31mred"
    for name, why in ((forged, "it holds control characters"),
                      ("tab\tname", "it holds control characters"),
                      ("   ", "it starts or ends with a space"),
                      (" a", "it starts or ends with a space"),
                      ("x" * 256, "it is 256 bytes long, over 255")):
        said = refused_start(setup, "--node-name", name)
        assert "--node-name " in said and why in said, (name, said)
        assert "give 1 to 255 bytes of printable text" in said, said
        # The refusal itself quotes the name escaped, on one line.
        assert "\x1b" not in said, said
        assert not any(line.startswith("2026-12-05 12:00:00.000")
                       for line in said.splitlines()), said


def main():
    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="batchcast-start-") as folder:
        return run_tests([test_endless_files_are_refused_promptly,
                          test_a_fifo_key_nobody_writes_blocks_only_until_sigterm,
                          test_a_fifo_key_written_later_is_used,
                          test_a_setting_given_twice_in_the_config_is_refused,
                          test_an_expired_certificate_is_served_with_a_warning,
                          test_a_chain_file_sends_its_intermediate,
                          test_client_tools_refuse_an_endless_ca_file,
                          test_a_state_database_that_is_no_file_is_refused,
                          test_a_state_database_anyone_can_read_is_warned_about,
                          test_a_token_no_client_can_send_is_refused,
                          test_the_publish_command_refuses_such_a_token_too,
                          test_empty_allowed_hosts_are_refused,
                          test_a_numeric_setting_that_is_no_number_says_so,
                          test_a_number_with_leading_zeros_is_read_in_decimal,
                          test_a_cluster_secret_without_a_node_port_is_warned_about,
                          test_settings_that_would_refuse_every_watcher_are_refused,
                          test_an_empty_path_is_refused_naming_it,
                          test_a_db_sqlite_reads_as_no_file_is_refused,
                          test_an_empty_node_name_is_refused,
                          test_an_empty_variable_for_a_file_or_name_is_refused,
                          test_one_address_for_both_listeners_is_refused,
                          test_a_node_port_shared_with_a_listener_is_refused,
                          test_a_peer_given_twice_is_refused_naming_it,
                          test_a_peer_that_is_this_node_is_refused,
                          test_the_log_level_takes_the_name_the_log_prints,
                          test_a_bracketed_ipv6_node_host_is_taken,
                          test_a_peer_no_node_can_have_is_refused,
                          test_a_node_port_without_a_cluster_secret_is_refused,
                          test_a_config_file_naming_another_is_refused,
                          test_an_unusable_node_name_is_refused],
                         Setup(binary, folder))


if __name__ == "__main__":
    sys.exit(main())
