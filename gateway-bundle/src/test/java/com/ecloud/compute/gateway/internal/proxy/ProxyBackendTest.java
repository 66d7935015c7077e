package com.ecloud.compute.gateway.internal.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Backend connections: pooling, retry, failures and timeouts. */
class ProxyBackendTest {

    private static void write(java.net.Socket socket, String text) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    @Test
    void connectFailureIs502NamingThePort() throws Exception {
        int closedPort;
        try (ServerSocket unused = new ServerSocket(0)) {
            closedPort = unused.getLocalPort();
        }
        try (ProxyFixture proxy = new ProxyFixture((h, p, t) -> new Route.Backend("127.0.0.1", closedPort));
             RawClient client = new RawClient(proxy.port())) {
            client.send("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n");
            RawClient.Response response = client.read();
            assertEquals(502, response.status());
            assertEquals("the container's port " + closedPort + " does not answer\n", response.text());
            assertEquals("text/plain; charset=utf-8", response.header("content-type"));
            // no body, keep-alive: the connection stays usable
            client.send("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n");
            assertEquals(502, client.read().status());
        }
    }

    @Test
    void noResponseHeadWithinResponseTimeoutIs504() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        try (ScriptedBackend silent = new ScriptedBackend((n, socket) -> {
                ScriptedBackend.readHead(socket);
                done.await(10, TimeUnit.SECONDS);
            });
             ProxyFixture proxy = new ProxyFixture(ProxyFixture.settings(8192, 1000, Duration.ofMillis(500), Duration.ofSeconds(30), 4),
                     (h, p, t) -> silent.route());
             RawClient client = new RawClient(proxy.port())) {
            long start = System.nanoTime();
            client.send("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n");
            RawClient.Response response = client.read();
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals(504, response.status());
            assertTrue(response.text().startsWith("the container's port "), response.text());
            assertTrue(millis >= 450 && millis < 5000, "answered after " + millis + " ms");
            done.countDown();
        }
    }

    @Test
    void backendClosingMidResponseClosesTheClientConnection() throws Exception {
        try (ScriptedBackend cutting = new ScriptedBackend((n, socket) -> {
                ScriptedBackend.readHead(socket);
                write(socket, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789");
            });
             ProxyFixture proxy = new ProxyFixture((h, p, t) -> cutting.route());
             RawClient client = new RawClient(proxy.port())) {
            client.send("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n");
            IOException cut = assertThrows(IOException.class, client::read);
            assertTrue(cut.getMessage().contains("body cut after 10 of 1000"), cut.getMessage());
        }
    }

    @Test
    void backendHeadersEndingInBareLineFeedsAreAccepted() throws Exception {
        // what BusyBox httpd sends for a CGI script: its status line, then the script's own LF-only lines
        try (ScriptedBackend cgi = new ScriptedBackend((n, socket) -> {
                ScriptedBackend.readHead(socket);
                write(socket, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\n\nHOME=/root\n");
                socket.close();
            });
             ProxyFixture proxy = new ProxyFixture((h, p, t) -> cgi.route());
             RawClient client = new RawClient(proxy.port())) {
            client.send("GET /cgi-bin/env HTTP/1.1\r\nHost: a.example\r\n\r\n");
            RawClient.Response response = client.read();
            assertEquals(200, response.status());
            assertEquals("text/plain", response.header("content-type"));
            assertEquals("HOME=/root\n", response.text());
        }
    }

    @Test
    void pooledConnectionClosedByBackendIsRetriedOnceOnAFreshOne() throws Exception {
        try (ScriptedBackend flaky = new ScriptedBackend((n, socket) -> {
                ScriptedBackend.readHead(socket);
                write(socket, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
                if (n == 0) {
                    // keep-alive was promised, but the second request on this connection finds it closing
                    ScriptedBackend.readHead(socket);
                    socket.close();
                }
            });
             ProxyFixture proxy = new ProxyFixture((h, p, t) -> flaky.route());
             RawClient client = new RawClient(proxy.port())) {
            client.send("GET /1 HTTP/1.1\r\nHost: a.example\r\n\r\n");
            assertEquals("first", client.read().text());
            client.send("GET /2 HTTP/1.1\r\nHost: a.example\r\n\r\n");
            RawClient.Response retried = client.read();
            assertEquals(200, retried.status());
            assertEquals(2, flaky.accepted.get(), "the retry used a fresh connection");
        }
    }

    @Test
    void freshConnectionClosedWithoutAnswerIs502() throws Exception {
        try (ScriptedBackend rude = new ScriptedBackend((n, socket) -> {
                ScriptedBackend.readHead(socket);
                socket.close();
            });
             ProxyFixture proxy = new ProxyFixture((h, p, t) -> rude.route());
             RawClient client = new RawClient(proxy.port())) {
            client.send("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n");
            RawClient.Response response = client.read();
            assertEquals(502, response.status());
            assertEquals(1, rude.accepted.get(), "no retry on a fresh connection");
        }
    }

    @Test
    void idlePooledConnectionIsClosedAfterIdleTimeout() throws Exception {
        CountDownLatch backendSawClose = new CountDownLatch(1);
        try (ScriptedBackend backend = new ScriptedBackend((n, socket) -> {
                ScriptedBackend.readHead(socket);
                write(socket, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                socket.setSoTimeout(10_000);
                if (socket.getInputStream().read() < 0) backendSawClose.countDown();
            });
             ProxyFixture proxy = new ProxyFixture(ProxyFixture.settings(8192, 1000, Duration.ofSeconds(5), Duration.ofMillis(600), 4),
                     (h, p, t) -> backend.route());
             RawClient client = new RawClient(proxy.port())) {
            client.send("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n");
            assertEquals("ok", client.read().text());
            assertEquals(1, proxy.server.idleBackendConnections(backend.route()));
            assertTrue(backendSawClose.await(5, TimeUnit.SECONDS), "the idle pooled connection was closed");
            long deadline = System.currentTimeMillis() + 2000; // the pool forgets it just after the close
            while (proxy.server.idleBackendConnections(backend.route()) != 0 && System.currentTimeMillis() < deadline) Thread.sleep(10);
            assertEquals(0, proxy.server.idleBackendConnections(backend.route()));
        }
    }

    @Test
    void idleConnectionsPerBackendAreLimited() throws Exception {
        try (TestBackend backend = new TestBackend();
             ProxyFixture proxy = new ProxyFixture(ProxyFixture.settings(8192, 1000, Duration.ofSeconds(10), Duration.ofSeconds(30), 2),
                     (h, p, t) -> backend.route())) {
            List<CompletableFuture<String>> answers = new ArrayList<>();
            List<RawClient> clients = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                RawClient client = new RawClient(proxy.port());
                clients.add(client);
                client.send("GET /hold HTTP/1.1\r\nHost: a.example\r\n\r\n");
                answers.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return client.read().text();
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                }));
            }
            long deadline = System.currentTimeMillis() + 5000;
            while (backend.held.get() < 5 && System.currentTimeMillis() < deadline) Thread.sleep(20);
            assertEquals(5, backend.clientPorts.size(), "five concurrent requests use five backend connections");
            backend.releaseHeld();
            for (CompletableFuture<String> answer : answers) assertEquals("released", answer.get(10, TimeUnit.SECONDS));
            // the excess is closed after a short grace (bursts are taken again at once under load)
            Thread.sleep(BackendPools.TRIM_DELAY_MILLIS + 300);
            assertEquals(2, proxy.server.idleBackendConnections(backend.route()), "at most maxIdleBackendConnections stay idle");
            for (RawClient client : clients) client.close();
        }
    }

    @Test
    void idleClientConnectionIsClosed() throws Exception {
        try (TestBackend backend = new TestBackend();
             ProxyFixture proxy = new ProxyFixture(ProxyFixture.settings(8192, 1000, Duration.ofSeconds(10), Duration.ofMillis(500), 2),
                     (h, p, t) -> backend.route());
             RawClient client = new RawClient(proxy.port())) {
            client.send("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n");
            assertEquals(200, client.read().status());
            long start = System.nanoTime();
            assertTrue(client.closedByPeer(), "closed after idleTimeout");
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(millis >= 300 && millis < 5000, "closed after " + millis + " ms");
        }
    }

    @Test
    void headResponseWithChunkedHeaderHasNoBody() throws Exception {
        try (ScriptedBackend backend = new ScriptedBackend((n, socket) -> {
                String head = ScriptedBackend.readHead(socket);
                write(socket, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                head = ScriptedBackend.readHead(socket);
                write(socket, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext");
            });
             ProxyFixture proxy = new ProxyFixture((h, p, t) -> backend.route());
             RawClient client = new RawClient(proxy.port())) {
            client.send("HEAD / HTTP/1.1\r\nHost: a.example\r\n\r\n");
            RawClient.Response head = client.read(true);
            assertEquals(200, head.status());
            client.send("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n");
            assertEquals("next", client.read().text(), "no stray chunk terminator after the HEAD response");
        }
    }

    @Test
    void closeDelimitedBackendResponseIsPassedAndClientClosed() throws Exception {
        try (ScriptedBackend backend = new ScriptedBackend((n, socket) -> {
                ScriptedBackend.readHead(socket);
                write(socket, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end");
            });
             ProxyFixture proxy = new ProxyFixture((h, p, t) -> backend.route());
             RawClient client = new RawClient(proxy.port())) {
            client.send("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n");
            RawClient.Response response = client.read();
            assertEquals("until the end", response.text());
            assertEquals("close", response.header("connection"));
        }
    }

    @Test
    void chunkedResponseReachesAnHttp10ClientUnchunkedThenCloses() throws Exception {
        try (ScriptedBackend backend = new ScriptedBackend((n, socket) -> {
                ScriptedBackend.readHead(socket);
                write(socket, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
            });
             ProxyFixture proxy = new ProxyFixture((h, p, t) -> backend.route());
             RawClient client = new RawClient(proxy.port())) {
            client.send("GET / HTTP/1.0\r\nHost: a.example\r\nConnection: keep-alive\r\n\r\n");
            RawClient.Response response = client.read();
            assertEquals(null, response.header("transfer-encoding"), "HTTP/1.0 knows no chunks");
            assertEquals("close", response.header("connection"));
            assertEquals("hello world", response.text());
        }
    }

    @Test
    void hopByHopHeadersOfTheResponseAreRemoved() throws Exception {
        try (ScriptedBackend backend = new ScriptedBackend((n, socket) -> {
                ScriptedBackend.readHead(socket);
                write(socket, "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Private\r\nX-Private: secret\r\n"
                        + "Keep-Alive: timeout=5\r\nX-Public: yes\r\nContent-Length: 2\r\n\r\nok");
            });
             ProxyFixture proxy = new ProxyFixture((h, p, t) -> backend.route());
             RawClient client = new RawClient(proxy.port())) {
            client.send("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n");
            RawClient.Response response = client.read();
            assertEquals("ok", response.text());
            assertEquals("yes", response.header("x-public"));
            assertEquals(null, response.header("x-private"));
            assertEquals(null, response.header("keep-alive"));
            assertEquals(null, response.header("connection"));
        }
    }

    @Test
    void expectContinueIsRelayed() throws Exception {
        try (TestBackend backend = new TestBackend();
             ProxyFixture proxy = new ProxyFixture((h, p, t) -> backend.route());
             RawClient client = new RawClient(proxy.port())) {
            client.send("POST /echo HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
            RawClient.Response interim = client.read();
            assertEquals(100, interim.status());
            client.send("hello");
            assertEquals("hello", client.read().text());
        }
    }

    @Test
    void listenOnABusyPortThrowsUncheckedIOException() throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             ProxyServer server = new ProxyServer(ProxySettings.defaults(), (h, p, t) -> null, 1)) {
            assertThrows(java.io.UncheckedIOException.class, () -> server.listen("127.0.0.1", busy.getLocalPort(), 80, null));
        }
    }

}
