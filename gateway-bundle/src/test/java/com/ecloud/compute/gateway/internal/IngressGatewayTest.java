package com.ecloud.compute.gateway.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Proxy;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.ecloud.compute.api.access.AccessRefusedException;
import com.ecloud.compute.api.access.ContainerAccess;
import com.ecloud.compute.api.access.SshTarget;
import com.ecloud.compute.api.event.ContainerEvent;
import com.ecloud.compute.api.model.ContainerStatus;
import com.ecloud.compute.api.model.IngressRule;
import com.ecloud.compute.api.runtime.ExecListener;
import com.ecloud.compute.api.runtime.ExecSession;
import com.ecloud.compute.api.runtime.ExecSpec;
import com.ecloud.compute.api.runtime.HostEndpoint;
import com.ecloud.compute.api.store.IngressStore;
import com.sun.net.httpserver.HttpServer;

/**
 * The gateway component on an in-memory store and access (unit test of its logic) in front of a real HTTP
 * backend, with the real proxy: rules take effect when the platform reports them, rule ports open and close
 * listeners, status events switch a container between routed and 503.
 */
class IngressGatewayTest {

    private static final String ID = "abc12345";
    private static final String HOST = ID + ".compute.localhost";

    @TempDir
    Path data;

    private final Rules rules = new Rules();
    private final Access access = new Access();
    private HttpServer backend;
    private IngressGateway gateway;
    private int offset;

    @BeforeEach
    void setUp() throws IOException {
        backend = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        backend.createContext("/", exchange -> {
            byte[] body = ("hello from " + exchange.getRequestHeaders().getFirst("Host") + "\n").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        backend.start();
        access.endpoint = new HostEndpoint("127.0.0.1", backend.getAddress().getPort());
        offset = freeOffset();
    }

    @AfterEach
    void tearDown() {
        if (gateway != null) gateway.close();
        backend.stop(0);
    }

    private IngressGateway start() {
        gateway = new IngressGateway(config(Map.of("port.offset", offset)), data, null, rules, () -> access);
        assertTrue(gateway.awaitStarted(), "the gateway started");
        return gateway;
    }

    @Test
    void rulesPresentAtStartAreLoaded() throws Exception {
        rules.add(ID, 80, 3000);
        start();
        waitUntil(() -> status(80) == 200);
        assertEquals("hello from " + HOST + "\n", body(80));
    }

    @Test
    void aRuleTakesEffectWhenThePlatformReportsIt() throws Exception {
        start();
        waitUntil(() -> gateway.listening().contains(80));
        assertEquals(404, status(80), "no rule yet");
        rules.add(ID, 80, 3000);
        gateway.refresh(ID); // returns once the route is in place
        assertEquals(200, status(80));
        rules.delete(ID, 80);
        gateway.refresh(ID);
        assertEquals(404, status(80));
    }

    @Test
    void rulePortsOpenAndCloseTheirListeners() throws Exception {
        start();
        int rulePort = 8000 + (int) (Math.random() * 900);
        assertFalse(gateway.listening().contains(rulePort));
        rules.add(ID, rulePort, 3000);
        gateway.refresh(ID);
        assertTrue(gateway.listening().contains(rulePort));
        assertEquals(200, status(rulePort));
        rules.delete(ID, rulePort);
        gateway.refresh(ID);
        assertFalse(gateway.listening().contains(rulePort));
        assertEquals(-1, status(rulePort), "the port is closed");
        assertTrue(gateway.listening().containsAll(List.of(80, 443)), "80 and 443 always listen");
    }

    @Test
    void statusEventsSwitchBetweenRoutedAnd503() throws Exception {
        rules.add(ID, 80, 3000);
        start();
        waitUntil(() -> status(80) == 200);
        access.status = ContainerStatus.STOPPED;
        gateway.onContainerEvent(new ContainerEvent(ID, "alice", ContainerStatus.STOPPED, null, null, Instant.now()));
        waitUntil(() -> status(80) == 503);
        access.status = ContainerStatus.RUNNING;
        gateway.onContainerEvent(new ContainerEvent(ID, "alice", ContainerStatus.RUNNING, null, "127.0.0.1", Instant.now()));
        waitUntil(() -> status(80) == 200);
    }

    @Test
    void aPortThatCannotBeReachedIs502() throws Exception {
        access.refuseExpose = true;
        rules.add(ID, 80, 3000);
        start();
        waitUntil(() -> status(80) == 502);
        assertTrue(body(80).contains("port 3000"), body(80));
    }

    @Test
    void theLocalCaIsGeneratedIntoTheDataDirectory() {
        start();
        assertTrue(Files.isRegularFile(data.resolve("secrets/gateway/ca.pem")));
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private int status(int externalPort) {
        String answer = get(externalPort);
        return answer == null ? -1 : Integer.parseInt(answer.substring(9, 12));
    }

    private String body(int externalPort) {
        String answer = get(externalPort);
        return answer == null ? null : answer.substring(answer.indexOf("\r\n\r\n") + 4);
    }

    /** One GET / with the container's host name on a fresh connection; null when the port is closed. */
    private String get(int externalPort) {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), externalPort + offset)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET / HTTP/1.1\r\nHost: " + HOST + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (ConnectException e) {
            return null;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void waitUntil(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("condition not met within 10 s");
            Thread.sleep(20);
        }
    }

    private static int freeOffset() throws IOException {
        for (int attempt = 0; attempt < 100; attempt++) {
            // below the ephemeral range (32768-): client sockets never hold these ports
            int candidate = 11000 + (int) (Math.random() * 12000);
            if (free(80 + candidate) && free(443 + candidate)) return candidate;
        }
        throw new IOException("no free ports");
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static IngressGateway.Config config(Map<String, Object> values) {
        return (IngressGateway.Config) Proxy.newProxyInstance(IngressGateway.Config.class.getClassLoader(),
                new Class<?>[] {IngressGateway.Config.class}, (proxy, method, args) -> {
                    String key = method.getName().replace('_', '.');
                    if (values.containsKey(key)) return values.get(key);
                    if (method.getDefaultValue() != null) return method.getDefaultValue();
                    if (method.getName().equals("annotationType")) return IngressGateway.Config.class;
                    throw new UnsupportedOperationException(method.getName());
                });
    }

    /** Rules in memory. */
    static final class Rules implements IngressStore {
        private final List<IngressRule> all = new CopyOnWriteArrayList<>();
        private final AtomicLong ids = new AtomicLong();

        @Override
        public IngressRule add(String containerId, int port, int targetPort) {
            IngressRule rule = new IngressRule(ids.incrementAndGet(), containerId, port, targetPort, Instant.now());
            all.add(rule);
            return rule;
        }

        @Override
        public List<IngressRule> list(String containerId) {
            return all.stream().filter(r -> r.containerId().equals(containerId)).toList();
        }

        @Override
        public List<IngressRule> listAll() {
            return new ArrayList<>(all);
        }

        @Override
        public boolean delete(String containerId, int port) {
            return all.removeIf(r -> r.containerId().equals(containerId) && r.port() == port);
        }
    }

    /** One container whose every port is the test's backend. */
    static final class Access implements ContainerAccess {
        volatile ContainerStatus status = ContainerStatus.RUNNING;
        volatile HostEndpoint endpoint;
        volatile boolean refuseExpose;
        final Map<String, Integer> exposed = new ConcurrentHashMap<>();

        @Override
        public Optional<SshTarget> sshTarget(String containerId) {
            return ID.equals(containerId) ? Optional.of(new SshTarget(ID, "alice", status, false, List.of())) : Optional.empty();
        }

        @Override
        public ExecSession exec(String containerId, ExecSpec spec, ExecListener listener) {
            throw new UnsupportedOperationException();
        }

        @Override
        public HostEndpoint expose(String containerId, int port) {
            if (refuseExpose || status != ContainerStatus.RUNNING) throw new AccessRefusedException("not reachable");
            exposed.merge(containerId + ":" + port, 1, Integer::sum);
            return endpoint;
        }

        @Override
        public String domain() {
            return "localhost";
        }
    }
}
