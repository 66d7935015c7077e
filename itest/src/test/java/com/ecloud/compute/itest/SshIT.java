package com.ecloud.compute.itest;

import static com.ecloud.compute.itest.harness.Api.obj;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.ecloud.compute.itest.harness.Api;
import com.ecloud.compute.itest.harness.Command;
import com.ecloud.compute.itest.harness.Docker;
import com.ecloud.compute.itest.harness.Fixtures;
import com.ecloud.compute.itest.harness.OpenSsh;
import com.ecloud.compute.itest.harness.OpenSsh.Background;
import com.ecloud.compute.itest.harness.OpenSsh.Identity;
import com.ecloud.compute.itest.harness.PlatformExtension;
import com.ecloud.compute.itest.harness.PlatformProcess;
import com.ecloud.compute.itest.harness.Poll;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * The SSH gateway (ssh-bundle) with the real OpenSSH client against the real jar and real containers: commands
 * with stdout, stderr and exit status, every refusal, a PTY that follows window changes, stdin to EOF and binary
 * data, no process left behind by a client that goes away, {@code ssh -L} to the container's own ports only,
 * scp, the per-user session cap, and a host key that outlives a restart (last: it restarts the platform).
 * Every wait is bounded; nothing asserts on timing.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SshIT {

    static final String SSH_PID = "com.ecloud.compute.ssh";
    /** The gateway's port, and the same number in the API's ssh_command. */
    static final int SSH_PORT = OpenSsh.freePort();
    static final Duration STEP = Duration.ofSeconds(60);
    static final String PERMISSION_DENIED = "Permission denied (publickey)";
    /**
     * Key type of the users' keys in most tests. Each accepted type is tested on its own in
     * {@link #everyAcceptedKeyTypeLogsIn}, so that a type the gateway cannot verify fails that one test by name.
     */
    static final String KEY_TYPE = "ecdsa";

    /** At most this many SSH connections per container owner (small, so that the cap is reached in a test). */
    static final int MAX_SESSIONS = 4;
    /** The operators' shell of the same bundle (tested in OperatorShellIT) on a free port: never in another platform's way. */
    static final String OPERATOR_PID = "com.ecloud.compute.ssh.operator";
    /** Keys and known_hosts files of this class. */
    static final Path work = tempDir();

    @RegisterExtension
    static final PlatformExtension platform = new PlatformExtension()
            .config(SSH_PID, Map.of("port", Integer.toString(SSH_PORT), "max.sessions.per.user", Integer.toString(MAX_SESSIONS)))
            .config(OPERATOR_PID, Map.of("port", Integer.toString(OpenSsh.freePort())))
            .config(PlatformProcess.PLATFORM_PID, platformConfig());

    static Path tempDir() {
        try {
            return Files.createTempDirectory("ecloud-it-ssh-");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static Map<String, String> platformConfig() {
        Map<String, String> m = new HashMap<>(PlatformProcess.FAST_PLATFORM);
        m.put("ssh.public.port", Integer.toString(SSH_PORT));
        return m;
    }

    static OpenSsh ssh;
    /** The main user, its key and its running busybox container with SSH enabled. */
    static Api owner;
    static Identity ownerKey;
    static long ownerKeyId;
    static String box;
    /** Another user with its own key and container. */
    static Identity otherKey;
    static String otherBox;

    @BeforeAll
    static void setUp() {
        OpenSsh.requireTools("ssh", "scp", "ssh-keygen", "python3");
        ssh = new OpenSsh("127.0.0.1", SSH_PORT, work.resolve("known_hosts"));
        OpenSsh.awaitListening(SSH_PORT, STEP);

        owner = platform.get().newUserApi("sshowner");
        ownerKey = OpenSsh.newKey(work, "owner", KEY_TYPE);
        ownerKeyId = addKey(owner, "owner", ownerKey);
        box = runningBusybox(owner, "box", true, ownerKeyId);

        Api other = platform.get().newUserApi("sshother");
        otherKey = OpenSsh.newKey(work, "other", KEY_TYPE);
        otherBox = runningBusybox(other, "otherbox", true, addKey(other, "other", otherKey));
    }

    @AfterAll
    static void removeFiles() throws IOException {
        if (work == null) return;
        try (Stream<Path> all = Files.walk(work)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    // ---- helpers --------------------------------------------------------------------------------------------

    static long addKey(Api api, String name, Identity key) {
        return api.post("/compute/ssh-keys", obj("name", name, "public_key", key.publicLine())).expect(201).path("id").asLong();
    }

    /** A running busybox container with these keys; SSH enabled through PUT .../ssh when {@code sshEnabled}. */
    static String runningBusybox(Api api, String name, boolean sshEnabled, long... keyIds) {
        List<Long> keys = Arrays.stream(keyIds).boxed().toList();
        JsonNode c = Fixtures.create(api, obj("name", name, "instance_type", "tiny", "image", Fixtures.BUSYBOX, "ssh_key_ids", keys));
        assertFalse(c.path("ssh_enabled").asBoolean(), () -> "SSH is on by default: " + c);
        String id = c.path("id").asText();
        Fixtures.awaitRunning(api, id);
        if (sshEnabled) setSsh(api, id, true);
        return id;
    }

    static void setSsh(Api api, String id, boolean enabled) {
        JsonNode r = api.put("/compute/containers/" + id + "/ssh", obj("ssh_enabled", enabled)).expect(200);
        assertEquals(enabled, r.path("ssh_enabled").asBoolean(), r::toString);
        assertEquals(enabled, api.get("/compute/containers/" + id + "/ssh").expect(200).path("ssh_enabled").asBoolean());
    }

    /** stderr without the "Warning: Permanently added ..." line of a first connection. */
    static String stderrOf(OpenSsh.Result r) {
        return r.stderr().lines().filter(l -> !l.startsWith("Warning: Permanently added")).reduce("", (a, b) -> a + b + "\n");
    }

    static void assertOk(OpenSsh.Result r) {
        assertEquals(0, r.exitCode(), r::describe);
    }

    /** A refusal of OpenSSH: exit 255 and {@code expected} in what it printed. */
    static void assertRefused(OpenSsh.Result r, String expected) {
        assertEquals(255, r.exitCode(), r::describe);
        assertTrue(r.stderr().contains(expected), () -> "expected \"" + expected + "\" in stderr:\n" + r.describe());
        assertEquals("", r.stdout(), r::describe);
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    static byte[] random(int size) {
        byte[] b = new byte[size];
        new SecureRandom().nextBytes(b);
        return b;
    }

    /** What a one-shot {@code GET /} through 127.0.0.1:{@code port} returned (body, or the failure in words). */
    static String httpGet(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write("GET / HTTP/1.0\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int body = response.indexOf("\r\n\r\n");
            return body < 0 ? "(no HTTP response: " + response + ")" : response.substring(body + 4);
        } catch (IOException e) {
            return "(" + e + ")";
        }
    }

    /**
     * Connects to a forwarded port whose channel the gateway must refuse: the connection must be closed (or
     * reset) without a byte, and not hang. Returns how it ended.
     */
    static String refusedThrough(int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
            s.setSoTimeout(30_000);
            s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            try {
                byte[] buf = new byte[4096];
                int n;
                while ((n = in.read(buf)) >= 0) got.write(buf, 0, n);
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the forwarded connection to a refused destination stayed open for 30 s; received: " + got);
            } catch (IOException e) {
                assertEquals(0, got.size(), () -> "bytes came through a refused forward: " + got);
                return "reset (" + e.getMessage() + ")";
            }
            assertEquals(0, got.size(), () -> "bytes came through a refused forward: " + got);
            return "closed";
        }
    }

    static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) n++;
        return n;
    }

    // ---- commands -------------------------------------------------------------------------------------------

    @Test
    @Order(1)
    void commandPassesStdoutStderrAndExitStatus() {
        OpenSsh.Result r = ssh.ssh(ownerKey, box, "echo out; echo err >&2; exit 3");
        assertEquals(3, r.exitCode(), r::describe);
        assertEquals("out\n", r.stdout(), r::describe);
        assertTrue(r.stderr().contains("err"), r::describe);
        assertFalse(r.stdout().contains("err"), () -> "stderr came out on stdout: " + r.describe());
    }

    @Test
    @Order(2)
    void sshCommandFromTheApiIsTheCommandThatWorks() {
        String command = Fixtures.get(owner, box).path("ssh_command").asText();
        assertEquals("ssh -p " + SSH_PORT + " " + box + "@localhost", command);
        List<String> words = List.of(command.split(" "));
        assertEquals("ssh", words.get(0));
        List<String> cmd = new ArrayList<>(List.of("ssh"));
        cmd.addAll(ssh.options(ownerKey));
        cmd.addAll(words.subList(1, words.size())); // as the user would type it: -p <port> <id>@localhost
        cmd.add("echo via-ssh-command");
        OpenSsh.Result r = OpenSsh.run(cmd, null);
        assertOk(r);
        assertEquals("via-ssh-command\n", r.stdout(), r::describe);
    }

    // ---- refusals -------------------------------------------------------------------------------------------

    @Test
    @Order(3)
    void everyAcceptedKeyTypeLogsIn() {
        // the key types POST /compute/ssh-keys accepts: ssh-ed25519 (ssh-keygen's default), ecdsa-sha2-nistp*, ssh-rsa
        Api api = platform.get().newUserApi("sshtypes");
        List<Identity> keys = List.of(OpenSsh.newKey(work, "type-ed25519", "ed25519"), OpenSsh.newKey(work, "type-ecdsa", "ecdsa"),
                OpenSsh.newKey(work, "type-rsa", "rsa"));
        long[] ids = keys.stream().mapToLong(k -> addKey(api, k.privateKey().getFileName().toString(), k)).toArray();
        String id = runningBusybox(api, "types", true, ids);
        List<String> failures = new ArrayList<>();
        for (Identity key : keys) {
            OpenSsh.Result r = ssh.ssh(key, id, "echo in");
            if (r.exitCode() != 0 || !r.stdout().equals("in\n")) failures.add(key.publicLine().split(" ")[0] + ": " + r.describe());
        }
        assertTrue(failures.isEmpty(), () -> "keys of an accepted type do not log in:\n" + String.join("\n", failures));
    }

    @Test
    @Order(10)
    void unknownKeyIsRefused() {
        Identity stranger = OpenSsh.newKey(work, "stranger", KEY_TYPE);
        assertRefused(ssh.ssh(stranger, box, "echo in"), PERMISSION_DENIED);
        // no other way in: the server offers public key authentication only
        OpenSsh.Result r = ssh.ssh(stranger, box, "echo in");
        assertFalse(r.stderr().contains("password") || r.stderr().contains("keyboard-interactive"), r::describe);
    }

    @Test
    @Order(11)
    void anotherUsersKeyIsRefusedLikeAContainerThatDoesNotExist() {
        // the key is a good one: it opens its own user's container
        OpenSsh.Result own = ssh.ssh(otherKey, otherBox, "echo mine");
        assertOk(own);
        assertEquals("mine\n", own.stdout());

        OpenSsh.Result foreign = ssh.ssh(otherKey, box, "echo in");
        assertRefused(foreign, PERMISSION_DENIED);
        OpenSsh.Result nothing = ssh.ssh(otherKey, "zz9zz9zz", "echo in");
        assertRefused(nothing, PERMISSION_DENIED);
        OpenSsh.Result notAnId = ssh.ssh(otherKey, "not-a-container", "echo in");
        assertRefused(notAnId, PERMISSION_DENIED);
        // nothing tells an existing container of another user from one that does not exist
        assertEquals(stderrOf(nothing).replace("zz9zz9zz", "<user>"), stderrOf(foreign).replace(box, "<user>"));
        assertEquals(stderrOf(notAnId).replace("not-a-container", "<user>"), stderrOf(foreign).replace(box, "<user>"));
        // and the owner's key does not open the other user's container either
        assertRefused(ssh.ssh(ownerKey, otherBox, "echo in"), PERMISSION_DENIED);
    }

    @Test
    @Order(12)
    void keyDeletedFromTheAccountStopsWorking() {
        Api api = platform.get().newUserApi("sshrevoke");
        Identity doomed = OpenSsh.newKey(work, "doomed", KEY_TYPE);
        Identity kept = OpenSsh.newKey(work, "kept", KEY_TYPE);
        long doomedId = addKey(api, "doomed", doomed);
        String id = runningBusybox(api, "revoke", true, doomedId, addKey(api, "kept", kept));
        OpenSsh.Result before = ssh.ssh(doomed, id, "echo in");
        assertOk(before);
        assertEquals("in\n", before.stdout());

        api.delete("/compute/ssh-keys/" + doomedId).expect(200);
        assertRefused(ssh.ssh(doomed, id, "echo in"), PERMISSION_DENIED);
        OpenSsh.Result other = ssh.ssh(kept, id, "echo still");
        assertOk(other);
        assertEquals("still\n", other.stdout());
    }

    @Test
    @Order(13)
    void disabledSshIsRefusedWithHowToEnableIt() {
        Api api = platform.get().newUserApi("sshoff");
        Identity key = OpenSsh.newKey(work, "off", KEY_TYPE);
        String id = runningBusybox(api, "off", false, addKey(api, "off", key));
        assertFalse(Fixtures.get(api, id).path("ssh_enabled").asBoolean());

        OpenSsh.Result r = ssh.ssh(key, id, "echo in");
        assertRefused(r, "SSH is disabled for container " + id);
        assertTrue(r.stderr().contains("PUT /compute/containers/" + id + "/ssh"), r::describe);

        setSsh(api, id, true);
        OpenSsh.Result on = ssh.ssh(key, id, "echo in");
        assertOk(on);
        assertEquals("in\n", on.stdout());

        setSsh(api, id, false);
        assertRefused(ssh.ssh(key, id, "echo in"), "SSH is disabled for container " + id);
    }

    @Test
    @Order(14)
    void stoppedContainerIsRefusedWithHowToStartIt() {
        Api api = platform.get().newUserApi("sshstopped");
        Identity key = OpenSsh.newKey(work, "stopped", KEY_TYPE);
        String id = runningBusybox(api, "stopped", true, addKey(api, "stopped", key));
        assertOk(ssh.ssh(key, id, "true"));

        api.post("/compute/containers/" + id + "/stop").expect(200);
        Fixtures.awaitStatus(api, id, "stopped", STEP);
        OpenSsh.Result r = ssh.ssh(key, id, "echo in");
        assertRefused(r, "container " + id + " is stopped");
        assertTrue(r.stderr().contains("POST /compute/containers/" + id + "/start"), r::describe);
    }

    // ---- sessions -------------------------------------------------------------------------------------------

    /**
     * Drives {@code ssh -tt} on a pseudo-terminal of its own: starts it at rows0 x cols0 with TERM=vt220, asks
     * the remote shell for {@code stty size} and $TERM, resizes the terminal to rows1 x cols1 (TIOCSWINSZ +
     * SIGWINCH) and asks again until the new size shows (bounded), then types exit. Prints "size R C",
     * "term T" and "ssh-exit N" lines; the transcript goes to stderr.
     */
    static final String PTY_DRIVER = """
            import os, pty, sys, time, fcntl, termios, struct, signal, select, re
            rows0, cols0, rows1, cols1 = map(int, sys.argv[1:5])
            cmd = sys.argv[5:]
            def winsize(fd, rows, cols):
                fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
            pid, fd = pty.fork()
            if pid == 0:
                winsize(0, rows0, cols0)
                os.environ['TERM'] = 'vt220'
                os.execvp(cmd[0], cmd)
            buf = bytearray()
            state = {'pos': 0, 'eof': False}
            def read_match(pattern, deadline):
                rx = re.compile(pattern)
                while True:
                    m = rx.search(bytes(buf), state['pos'])
                    if m:
                        state['pos'] = m.end()
                        return m
                    left = deadline - time.time()
                    if left <= 0 or state['eof']:
                        return None
                    r, _, _ = select.select([fd], [], [], min(left, 0.5))
                    if r:
                        try:
                            data = os.read(fd, 65536)
                        except OSError:
                            data = b''
                        if not data:
                            state['eof'] = True
                        buf.extend(data)
            SIZE_CMD = b'echo "S:$(stty size):E"\\n'
            SIZE = rb'S:(\\d+) (\\d+):E'
            def ask_size(wait):
                os.write(fd, SIZE_CMD)
                m = read_match(SIZE, time.time() + wait)
                if m:
                    print('size', int(m.group(1)), int(m.group(2)), flush=True)
                    return (int(m.group(1)), int(m.group(2)))
                return None
            ask_size(60)
            os.write(fd, b'echo "T""=$TERM="\\n')
            m = read_match(rb'T=([^=\\r\\n]*)=', time.time() + 20)
            if m:
                print('term', m.group(1).decode(), flush=True)
            winsize(fd, rows1, cols1)
            os.kill(pid, signal.SIGWINCH)
            deadline = time.time() + 30
            while time.time() < deadline and not state['eof']:
                if ask_size(5) == (rows1, cols1):
                    break
            if not state['eof']:
                os.write(fd, b'exit\\n')
            status = None
            deadline = time.time() + 30
            while time.time() < deadline:
                r, _, _ = select.select([fd], [], [], 0.2)
                if r:
                    try:
                        buf.extend(os.read(fd, 65536))
                    except OSError:
                        pass
                wpid, st = os.waitpid(pid, os.WNOHANG)
                if wpid:
                    status = os.waitstatus_to_exitcode(st)
                    break
            if status is None:
                os.kill(pid, signal.SIGKILL)
                print('ssh-exit timeout', flush=True)
            else:
                print('ssh-exit', status, flush=True)
            sys.stderr.write(buf.decode('utf-8', 'replace'))
            """;

    @Test
    @Order(20)
    void ptyShellHasTheClientsSizeAndFollowsWindowChanges() {
        List<String> cmd = new ArrayList<>(List.of("python3", "-c", PTY_DRIVER, "33", "101", "41", "132"));
        cmd.addAll(ssh.sshCommand(ownerKey, box, List.of("-tt")));
        OpenSsh.Result r = OpenSsh.run(cmd, null);
        assertEquals(0, r.exitCode(), r::describe);
        List<String> lines = r.stdout().lines().toList();
        List<String> sizes = lines.stream().filter(l -> l.startsWith("size ")).toList();
        assertFalse(sizes.isEmpty(), () -> "stty size never answered:\n" + r.describe());
        assertEquals("size 33 101", sizes.get(0), () -> "the PTY does not have the client's size:\n" + r.describe());
        assertEquals("size 41 132", sizes.get(sizes.size() - 1), () -> "the window change did not reach the PTY:\n" + r.describe());
        assertTrue(lines.contains("term vt220"), () -> "TERM is not the client's:\n" + r.describe());
        assertTrue(lines.contains("ssh-exit 0"), () -> "exit in the shell did not end ssh with 0:\n" + r.describe());
    }

    @Test
    @Order(21)
    void shellWithoutPtyReadsCommandsFromStdin() {
        OpenSsh.Result r = OpenSsh.run(ssh.sshCommand(ownerKey, box, List.of("-T")),
                "echo from-stdin\nexit 4\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(4, r.exitCode(), r::describe);
        assertTrue(r.stdout().contains("from-stdin\n"), r::describe);
    }

    @Test
    @Order(22)
    void stdinReachesTheCommandUntilEof() {
        OpenSsh.Result r = ssh.sshWithInput(ownerKey, box, "hello\n".getBytes(StandardCharsets.UTF_8), "cat");
        assertOk(r);
        assertEquals("hello\n", r.stdout(), r::describe);
        // EOF on stdin is EOF in the container: wc sees the end and counts
        OpenSsh.Result wc = ssh.sshWithInput(ownerKey, box, "a\nb\nc\n".getBytes(StandardCharsets.UTF_8), "wc -l");
        assertOk(wc);
        assertEquals("3", wc.stdout().strip(), wc::describe);
    }

    @Test
    @Order(23)
    void binaryDataPassesUnchangedBothWays() {
        byte[] payload = random(1 << 20);
        OpenSsh.Result echoed = ssh.sshWithInput(ownerKey, box, payload, "cat");
        assertOk(echoed);
        assertEquals(payload.length, echoed.stdoutBytes().length, "bytes back from cat");
        assertEquals(sha256(payload), sha256(echoed.stdoutBytes()));
        // what arrived in the container is the same too
        OpenSsh.Result remoteSum = ssh.sshWithInput(ownerKey, box, payload, "sha256sum");
        assertOk(remoteSum);
        assertEquals(sha256(payload), remoteSum.stdout().split("\\s+")[0], remoteSum::describe);
    }

    @Test
    @Order(24)
    void closingTheClientEndsTheProcessInTheContainer() throws IOException {
        String name = Docker.name(box);
        try (Background sleeper = OpenSsh.start(ssh.sshCommand(ownerKey, box, List.of(), "sleep 4242"), work.resolve("sleeper.log"))) {
            Poll.until("sleep 4242 to run in the container", STEP, Duration.ofMillis(500),
                    () -> Docker.exec(name, "ps").stdout(), ps -> ps.contains("sleep 4242"));
            sleeper.close(); // SIGTERM: the client goes away, its connection with it
        }
        Poll.until("sleep 4242 to end after its client left", STEP, Duration.ofMillis(500),
                () -> Docker.exec(name, "ps").stdout(), ps -> !ps.contains("sleep 4242"));
    }

    @Test
    @Order(25)
    void aReaderThatStopsEndsTheCommand() {
        // `ssh id 'cat /dev/zero' | head`: when head has its bytes, ssh's stdout breaks; the client says so
        // (eow@openssh.com) and the gateway ends the command, so that the pipeline ends instead of cat writing forever
        String sshLine = ssh.sshCommand(ownerKey, box, List.of(), "cat /dev/zero").stream()
                .map(SshIT::shellQuoted).collect(Collectors.joining(" "));
        Command.Result r = Command.run(Duration.ofSeconds(120), List.of("bash", "-c",
                "timeout -s KILL 60 " + sshLine + " </dev/null | head -c 1048576 | wc -c; echo \"ssh=${PIPESTATUS[0]}\""));
        assertEquals(0, r.exitCode(), r::describe);
        String[] lines = r.stdout().strip().split("\n");
        assertEquals("1048576", lines[0].strip(), r::describe);
        assertFalse(lines[1].equals("ssh=137"), "ssh had to be killed: the pipeline did not end by itself; " + r.describe());
        Poll.until("cat /dev/zero to end in the container", STEP, Duration.ofMillis(500),
                () -> Docker.exec(Docker.name(box), "ps").stdout(), ps -> !ps.contains("cat /dev/zero"));
    }

    private static String shellQuoted(String word) {
        return "'" + word.replace("'", "'\\''") + "'";
    }

    // ---- forwarding -----------------------------------------------------------------------------------------

    @Test
    @Order(30)
    void localForwardReachesTheContainersOwnPort() {
        int viaLocalhost = OpenSsh.freePort();
        int viaId = OpenSsh.freePort();
        // httpd in the foreground of a session of its own: it lives exactly as long as this test needs it
        try (Background server = OpenSsh.start(ssh.sshCommand(ownerKey, box, List.of(),
                "mkdir -p /tmp/www && echo ok > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"), work.resolve("httpd.log"));
             Background forward = OpenSsh.start(ssh.sshCommand(ownerKey, box, List.of("-N", "-o", "ExitOnForwardFailure=yes",
                     "-L", "127.0.0.1:" + viaLocalhost + ":localhost:8080",
                     "-L", "127.0.0.1:" + viaId + ":" + box + ":8080")), work.resolve("forward.log"))) {
            OpenSsh.awaitListening(viaLocalhost, STEP);
            OpenSsh.awaitListening(viaId, STEP);
            Poll.until("GET / through -L ...:localhost:8080 (" + forward.describe() + "; " + server.describe() + ")", STEP,
                    Duration.ofSeconds(1), () -> httpGet(viaLocalhost), "ok\n"::equals);
            assertEquals("ok\n", httpGet(viaId), forward::describe);
            assertTrue(forward.process().isAlive(), forward::describe);
        }
    }

    @Test
    @Order(31)
    void localForwardToAnyOtherHostIsProhibited() throws IOException {
        int foreign = OpenSsh.freePort();
        int otherContainer = OpenSsh.freePort();
        try (Background forward = OpenSsh.start(ssh.sshCommand(ownerKey, box, List.of("-N",
                "-L", "127.0.0.1:" + foreign + ":10.0.0.1:80",
                "-L", "127.0.0.1:" + otherContainer + ":" + otherBox + ":8080")), work.resolve("foreign.log"))) {
            OpenSsh.awaitListeningQuietly(foreign, STEP);
            OpenSsh.awaitListeningQuietly(otherContainer, STEP);
            String first = refusedThrough(foreign);
            Poll.until("ssh to report the refused channel to 10.0.0.1 (" + first + ")", STEP, Duration.ofMillis(250),
                    forward::output, out -> count(out, "open failed") >= 1);
            String second = refusedThrough(otherContainer);
            String out = Poll.until("ssh to report the refused channel to the other user's container (" + second + ")", STEP,
                    Duration.ofMillis(250), forward::output, o -> count(o, "open failed") >= 2);
            assertEquals(2, count(out, "open failed"), out);
            assertEquals(2, count(out, "administratively prohibited"), out);
            assertTrue(forward.process().isAlive(), "a refused channel must not end the session: " + forward.describe());
        }
    }

    @Test
    @Order(32)
    void remoteForwardingIsRefused() {
        OpenSsh.Result r = OpenSsh.run(ssh.sshCommand(ownerKey, box, List.of("-N", "-o", "ExitOnForwardFailure=yes",
                "-R", "127.0.0.1:0:localhost:9")), null, STEP);
        assertEquals(255, r.exitCode(), r::describe);
        assertTrue(r.stderr().contains("remote port forwarding failed"), r::describe);
    }

    // ---- scp ------------------------------------------------------------------------------------------------

    @Test
    @Order(40)
    void scpCopiesBothWaysWhereTheImageHasTheTools() throws IOException {
        // the Debian base image has scp and sftp-server; tiny = amd64 (native, fast)
        JsonNode c = Fixtures.create(owner, obj("name", "deb", "instance_type", "tiny", "ssh_key_ids", List.of(ownerKeyId)));
        String deb = c.path("id").asText();
        Fixtures.awaitRunning(owner, deb);
        setSsh(owner, deb, true);
        try {
            byte[] payload = random(300 * 1024);
            Path up = work.resolve("up.bin");
            Files.write(up, payload);
            // OpenSSH 9: scp speaks SFTP by default (the sftp subsystem); -O is the classic "scp -t" over exec
            for (List<String> mode : List.of(List.<String>of(), List.of("-O"))) {
                String remotePath = "/root/up" + (mode.isEmpty() ? "-sftp" : "-scp") + ".bin";
                assertOk(ssh.scp(ownerKey, mode, up.toString(), ssh.remote(deb, remotePath)));
                OpenSsh.Result sum = ssh.ssh(ownerKey, deb, "sha256sum " + remotePath);
                assertOk(sum);
                assertEquals(sha256(payload), sum.stdout().split("\\s+")[0], sum::describe);

                Path down = work.resolve("down" + (mode.isEmpty() ? "-sftp" : "-scp") + ".bin");
                assertOk(ssh.scp(ownerKey, mode, ssh.remote(deb, remotePath), down.toString()));
                assertArrayEquals(payload, Files.readAllBytes(down), "scp " + mode + " download");
            }
        } finally {
            owner.delete("/compute/containers/" + deb).expect(200);
        }
    }

    @Test
    @Order(41)
    void scpFailsCleanlyWhereTheImageLacksTheTools() throws IOException {
        Path file = work.resolve("small.txt");
        Files.writeString(file, "small\n");
        OpenSsh.Result sftpMode = ssh.scp(ownerKey, List.of(), file.toString(), ssh.remote(box, "/tmp/small.txt"));
        assertNotEquals(0, sftpMode.exitCode(), sftpMode::describe);
        assertTrue(sftpMode.stderr().contains("no sftp-server in this image"), sftpMode::describe);

        OpenSsh.Result scpMode = ssh.scp(ownerKey, List.of("-O"), file.toString(), ssh.remote(box, "/tmp/small.txt"));
        assertNotEquals(0, scpMode.exitCode(), scpMode::describe);
        assertTrue(scpMode.stderr().contains("scp: not found"), scpMode::describe);
    }

    // ---- limits ---------------------------------------------------------------------------------------------

    @Test
    @Order(50)
    void sessionsPerUserAreCapped() {
        String name = Docker.name(box);
        List<Background> open = new ArrayList<>();
        try {
            for (int i = 0; i < MAX_SESSIONS; i++) {
                open.add(OpenSsh.start(ssh.sshCommand(ownerKey, box, List.of(), "sleep " + (4300 + i)), work.resolve("cap" + i + ".log")));
            }
            try {
                Poll.until(MAX_SESSIONS + " sessions to run their sleep in the container", STEP, Duration.ofMillis(500),
                        () -> Docker.exec(name, "ps").stdout(),
                        ps -> java.util.stream.IntStream.range(0, MAX_SESSIONS).allMatch(i -> ps.contains("sleep " + (4300 + i))));
            } catch (AssertionError e) {
                StringBuilder clients = new StringBuilder();
                open.forEach(b -> clients.append('\n').append(b.describe()));
                throw new AssertionError(e.getMessage() + "\nthe clients:" + clients, e);
            }
            OpenSsh.Result over = ssh.ssh(ownerKey, box, "echo in");
            assertRefused(over, "too many SSH sessions for this user (at most " + MAX_SESSIONS + ")");
            // the cap is per owner: another user still gets in
            assertOk(ssh.ssh(otherKey, otherBox, "true"));
        } finally {
            open.forEach(Background::close);
        }
        // the closed sessions are given back
        Poll.until("an SSH session to be accepted again", STEP, Duration.ofSeconds(1),
                () -> ssh.ssh(ownerKey, box, "echo in"), r -> r.exitCode() == 0);
    }

    // ---- host key -------------------------------------------------------------------------------------------

    @Test
    @Order(100)
    void hostKeyStaysTheSameAfterARestart() throws IOException {
        PlatformProcess p = platform.get();
        Path knownHosts = work.resolve("known_hosts_restart");
        OpenSsh fresh = ssh.withKnownHosts(knownHosts);
        OpenSsh.Result first = fresh.ssh(ownerKey, box, "echo before");
        assertOk(first);
        assertEquals("before\n", first.stdout());
        String remembered = Files.readString(knownHosts);
        assertFalse(remembered.isBlank(), "accept-new wrote no host key");

        Path hostKey = p.dataDir().resolve("secrets").resolve("ssh-host-key");
        assertTrue(Files.isRegularFile(hostKey), "no host key at " + hostKey);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(hostKey)), hostKey.toString());

        p.stop();
        p.start();
        OpenSsh.awaitListening(SSH_PORT, STEP);
        Fixtures.awaitRunning(owner, box);

        OpenSsh.Result after = fresh.strict().ssh(ownerKey, box, "echo after");
        assertOk(after);
        assertEquals("after\n", after.stdout());
        assertEquals(remembered, Files.readString(knownHosts), "known_hosts changed: the host key is not the same");
    }
}
