package com.ecloud.compute.ssh.internal.gateway;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelDirectTcpip;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ChannelShell;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.SshException;
import org.apache.sshd.common.channel.exception.SshChannelOpenException;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.ecloud.compute.api.model.ContainerStatus;

/** The gateway on a free port with a fake ContainerAccess, driven by MINA's own SSH client. */
class SshGatewayTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(15);
    private static final String ID = "abcd1234";
    private static final String OTHER = "efgh5678";

    @TempDir
    Path data;

    private FakeAccess access;
    private SshGateway gateway;
    private SshClient client;
    private KeyPair aliceKey;
    private KeyPair bobKey;

    @BeforeEach
    void setUp() throws Exception {
        access = new FakeAccess();
        aliceKey = ecKey();
        bobKey = ecKey();
        access.put(ID, "alice", ContainerStatus.RUNNING, true, line(aliceKey));
        access.put(OTHER, "bob", ContainerStatus.RUNNING, true, line(bobKey));
        client = SshClient.setUpDefaultClient();
        client.setServerKeyVerifier((session, address, key) -> true);
        client.start();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (gateway != null) gateway.close();
        client.stop();
        access.close();
    }

    private SshGateway start(Map<String, Object> overrides) {
        Map<String, Object> values = new HashMap<>(overrides);
        values.putIfAbsent("port", 0);
        gateway = new SshGateway(config(values), data, access);
        return gateway;
    }

    @Test
    void wrongKeyIsRefused() throws Exception {
        start(Map.of());
        SshException e = assertThrows(SshException.class, () -> login(ID, ecKey()));
        assertTrue(e.getMessage().contains("No more authentication methods"), e.getMessage());
    }

    @Test
    void anotherContainersKeyIsRefusedLikeAnUnknownContainer() throws Exception {
        start(Map.of());
        assertThrows(SshException.class, () -> login(ID, bobKey));
        assertThrows(SshException.class, () -> login("zzzz9999", aliceKey));
        assertThrows(SshException.class, () -> login("not-an-id", aliceKey));
    }

    @Test
    void disabledSshIsRefusedWithActionableMessage() throws Exception {
        access.put(ID, "alice", ContainerStatus.RUNNING, false, line(aliceKey));
        start(Map.of());
        assertEquals("SSH is disabled for container " + ID + ": enable it with PUT /compute/containers/" + ID
                + "/ssh {\"ssh_enabled\":true}", disconnectReason(ID, aliceKey));
    }

    @Test
    void stoppedContainerIsRefusedWithActionableMessage() throws Exception {
        access.put(ID, "alice", ContainerStatus.STOPPED, true, line(aliceKey));
        start(Map.of());
        assertEquals("container " + ID + " is stopped: start it with POST /compute/containers/" + ID + "/start",
                disconnectReason(ID, aliceKey));
    }

    @Test
    void sessionsPerUserAreCapped() throws Exception {
        start(Map.of("max.sessions.per.user", 1));
        try (ClientSession first = login(ID, aliceKey)) {
            assertEquals("too many SSH sessions for this user (at most 1)", disconnectReason(ID, aliceKey));
            // bob is another user: not affected
            try (ClientSession bob = login(OTHER, bobKey)) {
                assertEquals("bob-ok\n", run(bob, "echo bob-ok").stdout);
            }
        }
        // the slot is freed when the first session closes
        waitUntil(() -> gateway.openSessions("alice") == 0);
        try (ClientSession again = login(ID, aliceKey)) {
            assertEquals(0, run(again, "true").exit);
        }
    }

    @Test
    void idleSessionsAreClosed() throws Exception {
        start(Map.of("idle.timeout.seconds", 1));
        try (ClientSession session = login(ID, aliceKey)) {
            waitUntil(() -> !session.isOpen());
        }
        waitUntil(() -> gateway.openSessions("alice") == 0);
    }

    @Test
    void execPassesStdoutStderrAndExitStatus() throws Exception {
        start(Map.of());
        try (ClientSession session = login(ID, aliceKey)) {
            Result r = run(session, "echo out; echo err >&2; exit 3");
            assertEquals("out\n", r.stdout);
            assertEquals("err\n", r.stderr);
            assertEquals(3, r.exit);
            assertEquals(java.util.List.of("/bin/sh", "-c", "echo out; echo err >&2; exit 3"),
                    access.specs.get(0).command());
            assertFalse(access.specs.get(0).tty());
        }
    }

    @Test
    void execStreamsStdinUntilEofBinarySafe() throws Exception {
        start(Map.of());
        byte[] payload = new byte[300_000];
        new java.util.Random(7).nextBytes(payload);
        try (ClientSession session = login(ID, aliceKey); ChannelExec ch = session.createExecChannel("cat")) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ch.setIn(new ByteArrayInputStream(payload));
            ch.setOut(out);
            ch.setErr(new ByteArrayOutputStream());
            ch.open().verify(TIMEOUT);
            ch.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), TIMEOUT);
            assertEquals(0, ch.getExitStatus());
            assertArrayEquals(payload, out.toByteArray());
        }
    }

    @Test
    void closingTheChannelEndsTheProcess() throws Exception {
        start(Map.of());
        try (ClientSession session = login(ID, aliceKey)) {
            ChannelExec ch = session.createExecChannel("sleep 60");
            ch.setOut(new ByteArrayOutputStream());
            ch.setErr(new ByteArrayOutputStream());
            ch.open().verify(TIMEOUT);
            waitUntil(() -> !access.specs.isEmpty());
            ch.close(false).await(TIMEOUT);
            waitUntil(() -> access.closed.contains(ID));
        }
    }

    @Test
    void endOfWriteFromTheClientEndsTheProcess() throws Exception {
        start(Map.of());
        try (ClientSession session = login(ID, aliceKey)) {
            ChannelExec ch = session.createExecChannel("exec sleep 60");
            ch.setOut(new ByteArrayOutputStream());
            ch.setErr(new ByteArrayOutputStream());
            ch.open().verify(TIMEOUT);
            waitUntil(() -> !access.specs.isEmpty());
            // (exec: the local stand-in for the container reports the exit once its one process is gone)
            // what OpenSSH's client sends when its stdout broke (ssh id cmd | head): the channel itself stays open
            Buffer eow = session.createBuffer(SshConstants.SSH_MSG_CHANNEL_REQUEST);
            eow.putUInt(ch.getRecipient());
            eow.putString(GatewayChannelSession.END_OF_WRITE);
            eow.putBoolean(false);
            session.writePacket(eow).verify(TIMEOUT);
            waitUntil(() -> access.closed.contains(ID));
            waitUntil(ch::isClosed); // the channel ends with the process
            assertNotNull(ch.getExitStatus(), "the process's exit reaches the client");
        }
    }

    @Test
    void noMoreSessionsRefusesSessionChannelsButNotForwarding() throws Exception {
        start(Map.of());
        try (ClientSession session = login(ID, aliceKey)) {
            Buffer request = session.createBuffer(SshConstants.SSH_MSG_GLOBAL_REQUEST);
            request.putString(NoMoreSessions.REQUEST);
            request.putBoolean(false);
            session.writePacket(request).verify(TIMEOUT);
            try (ChannelExec ch = session.createExecChannel("true")) {
                assertThrows(Exception.class, () -> ch.open().verify(TIMEOUT));
            }
            // OpenSSH's client sends the request on every connection; ssh -N -L must keep forwarding
            try (ChannelDirectTcpip ch = session.createDirectTcpipChannel(new SshdSocketAddress("localhost", 0),
                    new SshdSocketAddress("localhost", 8080))) {
                ch.open().verify(TIMEOUT);
                ch.getInvertedIn().write("ping".getBytes(StandardCharsets.UTF_8));
                ch.getInvertedIn().flush();
                assertEquals("ping", new String(ch.getInvertedOut().readNBytes(4), StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void shellWithPtyGetsSizeTermAndWindowChanges() throws Exception {
        start(Map.of());
        try (ClientSession session = login(ID, aliceKey); ChannelShell shell = session.createShellChannel()) {
            shell.setPtyType("vt100");
            shell.setPtyColumns(100);
            shell.setPtyLines(30);
            PipedOut out = new PipedOut();
            shell.setOut(out);
            shell.setErr(out);
            shell.setRedirectErrorStream(true);
            java.io.PipedOutputStream keyboard = new java.io.PipedOutputStream();
            shell.setIn(new java.io.PipedInputStream(keyboard));
            shell.open().verify(TIMEOUT);
            waitUntil(() -> out.text().contains("size 100x30 term vt100"));
            shell.sendWindowChange(120, 40);
            waitUntil(() -> access.resizes.contains("120x40"));
            waitUntil(() -> out.text().contains("resized 120x40"));
            keyboard.write("hello\n".getBytes(StandardCharsets.UTF_8));
            keyboard.flush();
            waitUntil(() -> out.text().contains("hello"));
            keyboard.write("exit\n".getBytes(StandardCharsets.UTF_8));
            keyboard.flush();
            shell.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), TIMEOUT);
            assertEquals(0, shell.getExitStatus());
            assertTrue(access.specs.get(0).tty());
            assertTrue(access.specs.get(0).command().isEmpty());
        }
    }

    @Test
    void ptyWithoutTermGetsDefault() throws Exception {
        start(Map.of());
        try (ClientSession session = login(ID, aliceKey); ChannelExec ch = session.createExecChannel("top")) {
            ch.setUsePty(true);
            ch.setPtyType("");
            PipedOut out = new PipedOut();
            ch.setOut(out);
            ch.setErr(out);
            ch.open().verify(TIMEOUT);
            waitUntil(() -> out.text().contains("term " + ExecCommand.DEFAULT_TERM));
        }
    }

    @Test
    void shellWithoutPtyRunsLoginShellWithoutTty() throws Exception {
        start(Map.of());
        try (ClientSession session = login(ID, aliceKey); ChannelShell shell = session.createShellChannel()) {
            shell.setUsePty(false);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            shell.setOut(out);
            shell.setErr(new ByteArrayOutputStream());
            shell.setIn(new ByteArrayInputStream("echo from-shell; exit 4\n".getBytes(StandardCharsets.UTF_8)));
            shell.open().verify(TIMEOUT);
            shell.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), TIMEOUT);
            assertEquals(4, shell.getExitStatus());
            assertEquals("from-shell\n", out.toString(StandardCharsets.UTF_8));
            assertFalse(access.specs.get(0).tty());
        }
    }

    @Test
    void refusedExecTellsWhyOnStderr() throws Exception {
        start(Map.of());
        try (ClientSession session = login(ID, aliceKey)) {
            // the container stops after login
            access.put(ID, "alice", ContainerStatus.STOPPED, true, line(aliceKey));
            Result r = run(session, "true");
            assertEquals(ExecCommand.FAILED, r.exit);
            assertTrue(r.stderr.contains("is not running"), r.stderr);
        }
    }

    @Test
    void sftpSubsystemRunsTheImagesSftpServer() throws Exception {
        start(Map.of());
        try (ClientSession session = login(ID, aliceKey);
                org.apache.sshd.client.channel.ChannelSubsystem ch = session.createSubsystemChannel("sftp")) {
            ch.setOut(new ByteArrayOutputStream());
            ch.setErr(new ByteArrayOutputStream());
            ch.open().verify(TIMEOUT);
            ch.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), TIMEOUT);
            assertEquals(SshGateway.SFTP_SERVER, access.specs.get(0).command());
            assertFalse(access.specs.get(0).tty());
        }
    }

    @Test
    void directTcpipReachesOnlyTheContainer() throws Exception {
        start(Map.of());
        try (ClientSession session = login(ID, aliceKey)) {
            for (String host : new String[] {"localhost", "127.0.0.1", ID}) {
                try (ChannelDirectTcpip ch = session.createDirectTcpipChannel(new SshdSocketAddress("localhost", 0),
                        new SshdSocketAddress(host, 8080))) {
                    ch.open().verify(TIMEOUT);
                    OutputStream toRemote = ch.getInvertedIn();
                    InputStream fromRemote = ch.getInvertedOut();
                    toRemote.write("ping".getBytes(StandardCharsets.UTF_8));
                    toRemote.flush();
                    assertEquals("ping", new String(fromRemote.readNBytes(4), StandardCharsets.UTF_8));
                }
            }
            assertEquals(ID + ":8080", access.exposed.get(0));
            for (String host : new String[] {"example.com", "10.0.0.1", OTHER}) {
                try (ChannelDirectTcpip ch = session.createDirectTcpipChannel(new SshdSocketAddress("localhost", 0),
                        new SshdSocketAddress(host, 80))) {
                    Exception e = assertThrows(Exception.class, () -> ch.open().verify(TIMEOUT));
                    SshChannelOpenException open = cause(e, SshChannelOpenException.class);
                    assertEquals(1 /* SSH_OPEN_ADMINISTRATIVELY_PROHIBITED */, open.getReasonCode(), host);
                }
            }
            assertEquals(3, access.exposed.size());
        }
    }

    @Test
    void hostKeyIsGeneratedOnceOwnerOnlyAndKeptAcrossActivations() throws Exception {
        start(Map.of());
        Path keyFile = data.resolve("secrets").resolve("ssh-host-key");
        byte[] first = Files.readAllBytes(keyFile);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)));
        PublicKey seenFirst = serverKey();
        int port = gateway.port();
        gateway.close();
        gateway = null;
        // the port is free again once deactivated
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
            assertEquals(port, s.getLocalPort());
        }
        start(Map.of());
        assertArrayEquals(first, Files.readAllBytes(keyFile));
        assertEquals(seenFirst, serverKey());
    }

    @Test
    void algorithmAllowListsApplyAndUnknownNamesAreSkipped() throws Exception {
        start(Map.of("ciphers", new String[] {"no-such-cipher", "aes128-ctr"}, "macs",
                new String[] {"hmac-sha2-256,hmac-md5-bogus"}));
        try (ClientSession session = login(ID, aliceKey)) {
            assertEquals("aes128-ctr", session.getNegotiatedKexParameter(
                    org.apache.sshd.common.kex.KexProposalOption.S2CENC));
            assertEquals("hmac-sha2-256", session.getNegotiatedKexParameter(
                    org.apache.sshd.common.kex.KexProposalOption.S2CMAC));
        }
    }

    // ---- helpers

    private PublicKey serverKey() throws Exception {
        CompletableFuture<PublicKey> seen = new CompletableFuture<>();
        client.setServerKeyVerifier((session, address, key) -> seen.complete(key));
        try (ClientSession session = login(ID, aliceKey)) {
            return seen.get(5, TimeUnit.SECONDS);
        } finally {
            client.setServerKeyVerifier((session, address, key) -> true);
        }
    }

    private ClientSession login(String user, KeyPair key) throws IOException {
        ClientSession session = client.connect(user, "127.0.0.1", gateway.port()).verify(TIMEOUT).getSession();
        try {
            session.addPublicKeyIdentity(key);
            session.auth().verify(TIMEOUT);
            return session;
        } catch (IOException | RuntimeException e) {
            session.close(true);
            throw e;
        }
    }

    /** Logs in with a valid key and returns the reason of the disconnect the gateway sends right after. */
    private String disconnectReason(String user, KeyPair key) throws Exception {
        CompletableFuture<String> reason = new CompletableFuture<>();
        SessionListener listener = new SessionListener() {
            @Override
            public void sessionDisconnect(Session session, int code, String msg, String language, boolean initiator) {
                if (!initiator) reason.complete(msg);
            }
        };
        client.addSessionListener(listener);
        try {
            ClientSession session = client.connect(user, "127.0.0.1", gateway.port()).verify(TIMEOUT).getSession();
            try (session) {
                session.addPublicKeyIdentity(key);
                try {
                    session.auth().verify(TIMEOUT);
                } catch (SshException ignored) {
                    // the disconnect may overtake the success message
                }
                return reason.get(10, TimeUnit.SECONDS);
            }
        } finally {
            client.removeSessionListener(listener);
        }
    }

    record Result(String stdout, String stderr, int exit) {
    }

    private static Result run(ClientSession session, String command) throws IOException {
        try (ChannelExec ch = session.createExecChannel(command)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            ch.setOut(out);
            ch.setErr(err);
            ch.open().verify(TIMEOUT);
            ch.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), TIMEOUT);
            Integer exit = ch.getExitStatus();
            return new Result(out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8),
                    exit == null ? -1 : exit);
        }
    }

    private static KeyPair ecKey() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        return g.generateKeyPair();
    }

    private static String line(KeyPair key) {
        return PublicKeyEntry.toString(key.getPublic()) + " test@example";
    }

    private static <T extends Throwable> T cause(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) return type.cast(t);
        }
        throw new AssertionError("no " + type.getSimpleName() + " in " + e, e);
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("condition not met in " + TIMEOUT);
            Thread.sleep(20);
        }
    }

    /** Output collected for polling. */
    private static final class PipedOut extends ByteArrayOutputStream {
        synchronized String text() {
            return toString(StandardCharsets.UTF_8);
        }
    }

    /** A Config with the annotation's defaults, overridden by .cfg-style keys (dots). */
    static SshGateway.Config config(Map<String, Object> values) {
        return (SshGateway.Config) Proxy.newProxyInstance(SshGateway.Config.class.getClassLoader(),
                new Class<?>[] {SshGateway.Config.class}, (proxy, method, args) -> {
                    String key = method.getName().replace('_', '.');
                    if (values.containsKey(key)) return values.get(key);
                    if (method.getDefaultValue() != null) return method.getDefaultValue();
                    if (method.getName().equals("annotationType")) return SshGateway.Config.class;
                    throw new UnsupportedOperationException(method.getName());
                });
    }
}
