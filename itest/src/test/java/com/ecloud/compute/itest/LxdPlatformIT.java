package com.ecloud.compute.itest;

import static com.ecloud.compute.itest.harness.Api.obj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

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
import com.ecloud.compute.itest.harness.Lxd;
import com.ecloud.compute.itest.harness.OpenSsh;
import com.ecloud.compute.itest.harness.OpenSsh.Identity;
import com.ecloud.compute.itest.harness.OperatorKey;
import com.ecloud.compute.itest.harness.PlatformExtension;
import com.ecloud.compute.itest.harness.PlatformProcess;
import com.ecloud.compute.itest.harness.Poll;
import com.ecloud.compute.itest.harness.TextRecorder;

/**
 * The platform with two runtimes side by side, the local Docker engine and the local LXD daemon, LXD preferred:
 * a user's container runs on LXD, and everything users do with a container works there as on Docker (SSH with the
 * real OpenSSH client, the user's key in the container's authorized_keys, the terminal and log WebSockets, ingress
 * through the gateway, stop, start, delete); a drained LXD host sends new containers to Docker.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LxdPlatformIT {

    static final String LXD_HOST = "lxd-it";
    static final String PREFIX = "ecit-";
    static final String POOL = "ecloud";
    static final int SSH_PORT = OpenSsh.freePort();
    static final Duration STEP = Duration.ofSeconds(60);
    static final OperatorKey OPERATOR_KEY = OperatorKey.create();

    @RegisterExtension
    static final PlatformExtension platform = new PlatformExtension()
            .config("com.ecloud.compute.runtime.lxd-it", Map.of("host.name", LXD_HOST, "instance.prefix", PREFIX))
            .config("com.ecloud.compute.ssh", Map.of("port", Integer.toString(SSH_PORT)))
            .config(OperatorKey.PID, OPERATOR_KEY.config())
            .config(PlatformProcess.PLATFORM_PID, platformConfig());

    static Map<String, String> platformConfig() {
        Map<String, String> m = new HashMap<>(PlatformProcess.FAST_PLATFORM);
        m.put("ssh.public.port", Integer.toString(SSH_PORT));
        m.put("runtime.preference", "lxd,docker");
        return m;
    }

    static Path work;
    static OpenSsh ssh;
    static OpenSsh operator;
    static Api owner;
    static Identity key;
    static String box;

    @BeforeAll
    static void setUp() throws Exception {
        Lxd.require();
        OpenSsh.requireTools("ssh", "ssh-keygen", "curl");
        work = Files.createTempDirectory("ecloud-it-lxd-");
        ssh = new OpenSsh("127.0.0.1", SSH_PORT, work.resolve("known_hosts"));
        operator = OPERATOR_KEY.client();
        owner = platform.get().newUserApi("lxduser");
        key = OpenSsh.newKey(work, "lxduser", "ed25519");
        long keyId = owner.post("/compute/ssh-keys", obj("name", "lxd-key", "public_key", key.publicLine()))
                .expect(201).path("id").asLong();
        // the LXD runtime learns its host first: wait until the scheduler sees it
        Poll.until("the LXD host listed healthy", STEP, Duration.ofMillis(500), () -> gogo("compute:hosts"),
                out -> out.contains(LXD_HOST) && out.lines().anyMatch(l -> l.contains(LXD_HOST) && l.contains("healthy")));
        box = Fixtures.create(owner, obj("name", "on-lxd", "instance_type", "tiny", "image", Fixtures.BUSYBOX,
                "ssh_key_ids", List.of(keyId))).path("id").asText();
        Fixtures.awaitRunning(owner, box);
    }

    @AfterAll
    static void cleanUp() {
        if (owner != null) Fixtures.deleteAll(owner);
        Lxd.sweep(POOL, PREFIX);
    }

    static String gogo(String command) {
        return OPERATOR_KEY.gogo(operator, command);
    }

    @Test
    @Order(1)
    void theContainerRunsOnLxdNotOnDocker() {
        assertEquals(Optional.of("Running"), Lxd.status(PREFIX + box));
        assertFalse(Docker.exists(Docker.name(box)), "no Docker container for it");
        String shown = gogo("compute:container " + box);
        assertTrue(shown.contains(LXD_HOST), shown);
        String hosts = gogo("compute:hosts");
        assertTrue(hosts.lines().anyMatch(l -> l.contains(LXD_HOST) && l.contains("lxd")), hosts);
    }

    @Test
    @Order(2)
    void sshWithTheRealClientAndTheContainersAuthorizedKeys() {
        owner.put("/compute/containers/" + box + "/ssh", obj("ssh_enabled", true)).expect(200);
        OpenSsh.Result r = ssh.ssh(key, box, "uname -n; cat /root/.ssh/authorized_keys; echo done");
        assertEquals(0, r.exitCode(), r::describe);
        assertTrue(r.stdout().startsWith(box + "\n"), r::describe); // the hostname is the container's id
        assertTrue(r.stdout().contains(key.publicLine().split(" ")[1]), r::describe);
        assertEquals(7, ssh.ssh(key, box, "exit 7").exitCode());
        OpenSsh.Result input = ssh.sshWithInput(key, box, "through stdin\n".getBytes(StandardCharsets.UTF_8), "cat");
        assertEquals("through stdin\n", input.stdout(), input::describe);
    }

    @Test
    @Order(3)
    void theTerminalWebSocketHasItsSizeResizesAndEnds() throws Exception {
        Terminal terminal = new Terminal();
        WebSocket ws = connect("terminal", null, terminal);
        ws.sendBinary(ByteBuffer.wrap("stty size\r".getBytes(StandardCharsets.UTF_8)), true).join();
        terminal.await("24 80");
        ws.sendText("{\"type\":\"resize\",\"cols\":120,\"rows\":40}", true).join();
        ws.sendBinary(ByteBuffer.wrap("stty size\r".getBytes(StandardCharsets.UTF_8)), true).join();
        terminal.await("40 120");
        ws.sendBinary(ByteBuffer.wrap("exit 3\r".getBytes(StandardCharsets.UTF_8)), true).join();
        assertEquals("1000 exit 3", terminal.closed.get(STEP.toSeconds(), TimeUnit.SECONDS));
    }

    @Test
    @Order(4)
    void theLogWebSocketShowsTheConsole() throws Exception {
        assertEquals(0, ssh.ssh(key, box, "echo lxd-log-before > /proc/1/fd/1").exitCode());
        Terminal log = new Terminal();
        WebSocket ws = connect("logs", "tail=10", log);
        log.awaitText("lxd-log-before");
        assertEquals(0, ssh.ssh(key, box, "echo lxd-log-followed > /proc/1/fd/1").exitCode());
        log.awaitText("lxd-log-followed");
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").join();
    }

    @Test
    @Order(5)
    void ingressReachesAnHttpServerInTheLxdContainer() {
        OpenSsh.Result serve = ssh.ssh(key, box, "mkdir -p /www && echo served-from-lxd > /www/index.html && httpd -p 8080 -h /www");
        assertEquals(0, serve.exitCode(), serve::describe);
        owner.post("/compute/containers/" + box + "/ingress", obj("port", 80, "target_port", 8080)).expect(201);
        int port = 80 + platform.get().gatewayOffset();
        String host = box + ".compute.localhost";
        Command.Result curl = Poll.until("the page through the gateway", STEP, Duration.ofMillis(500),
                () -> Command.run(Duration.ofSeconds(30), List.of("curl", "-sS", "--max-time", "10",
                        "--resolve", host + ":" + port + ":127.0.0.1", "http://" + host + ":" + port + "/")),
                r -> r.stdout().contains("served-from-lxd"));
        assertTrue(curl.stdout().contains("served-from-lxd"), curl::toString);
    }

    @Test
    @Order(6)
    void aDrainedLxdHostSendsNewContainersToDocker() {
        gogo("compute:drain " + LXD_HOST);
        try {
            String other = Fixtures.runningBusybox(owner, "while-drained");
            assertTrue(Docker.exists(Docker.name(other)), "a drained LXD host: the container went to Docker");
            assertEquals(Optional.empty(), Lxd.status(PREFIX + other));
            assertEquals(Optional.of("Running"), Lxd.status(PREFIX + box), "what runs on the drained host keeps running");
            owner.delete("/compute/containers/" + other);
        } finally {
            gogo("compute:undrain " + LXD_HOST);
        }
    }

    @Test
    @Order(7)
    void withTheLxdPluginStoppedNewContainersGoToDockerAndItsOwnWaitForIt() {
        String bundle = OPERATOR_KEY.bundleId(operator, "com.ecloud.compute.runtime.lxd");
        gogo("stop " + bundle);
        try {
            Poll.until("the LXD host gone from compute:hosts", STEP, Duration.ofMillis(500), () -> gogo("compute:hosts"),
                    out -> !out.contains(LXD_HOST));
            Api.Resp stop = owner.post("/compute/containers/" + box + "/stop");
            assertEquals(503, stop.status(), stop.body());
            assertTrue(stop.body().contains("\"error\""), stop.body());
            assertEquals("running", Fixtures.get(owner, box).path("status").asText(), "nothing in the store changed");
            assertEquals(Optional.of("Running"), Lxd.status(PREFIX + box), "the instance keeps running in LXD");

            String other = Fixtures.runningBusybox(owner, "while-lxd-away");
            assertTrue(Docker.exists(Docker.name(other)), "the other healthy host took it");
            owner.delete("/compute/containers/" + other);
        } finally {
            gogo("start " + bundle);
        }
        Poll.until("the LXD host back", STEP, Duration.ofMillis(500), () -> gogo("compute:hosts"),
                out -> out.lines().anyMatch(l -> l.contains(LXD_HOST) && l.contains("healthy")));
        assertEquals("running", Fixtures.get(owner, box).path("status").asText());
    }

    @Test
    @Order(8)
    void stopStartAndDeleteReachLxd() {
        owner.post("/compute/containers/" + box + "/stop").expect(200);
        Fixtures.awaitStatus(owner, box, "stopped", STEP);
        assertEquals(Optional.of("Stopped"), Lxd.status(PREFIX + box));
        owner.post("/compute/containers/" + box + "/start").expect(200);
        Fixtures.awaitRunning(owner, box);
        assertEquals(Optional.of("Running"), Lxd.status(PREFIX + box));
        assertFalse(Lxd.volumes(POOL, PREFIX + box).isEmpty(), "the /root volume exists");

        owner.delete("/compute/containers/" + box);
        Poll.until("the instance and its volumes gone", STEP, Duration.ofMillis(500),
                () -> Lxd.status(PREFIX + box).isEmpty() && Lxd.volumes(POOL, PREFIX + box).isEmpty(), gone -> gone);
    }

    // ---- a WebSocket client -------------------------------------------------------------------------------

    static WebSocket connect(String stream, String query, Terminal listener) {
        URI uri = URI.create("ws://127.0.0.1:" + platform.get().port() + "/compute/containers/" + box + "/" + stream
                + (query == null ? "" : "?" + query));
        return HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + owner.token()).buildAsync(uri, listener)
                .orTimeout(30, TimeUnit.SECONDS).join();
    }

    /** Collects binary output and text messages, and the close. */
    static final class Terminal extends TextRecorder {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final List<String> texts = new ArrayList<>();

        Terminal() {
            super(false);
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            synchronized (this) {
                bytes.writeBytes(b);
                notifyAll();
            }
            ws.request(1);
            return null;
        }

        @Override
        protected synchronized void onMessage(String message) {
            texts.add(message);
            notifyAll();
        }

        synchronized void await(String output) throws InterruptedException {
            long deadline = System.nanoTime() + STEP.toNanos();
            while (!bytes.toString(StandardCharsets.UTF_8).contains(output)) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) throw new AssertionError("no " + output + " in " + bytes.toString(StandardCharsets.UTF_8));
                wait(left);
            }
        }

        synchronized void awaitText(String part) throws InterruptedException {
            long deadline = System.nanoTime() + STEP.toNanos();
            while (texts.stream().noneMatch(t -> t.contains(part))) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) throw new AssertionError("no " + part + " in " + texts);
                wait(left);
            }
        }
    }
}
