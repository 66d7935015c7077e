package com.ecloud.compute.gateway.internal.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ProxyForwardingTest {
    private TestBackend backend;
    private ProxyFixture proxy;
    private final List<String> resolvedHosts = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        backend = new TestBackend();
        proxy = new ProxyFixture((host, externalPort, tls) -> {
            resolvedHosts.add(host + " " + externalPort + " " + tls);
            return host.startsWith("missing.") ? new Route.Refusal(404, "no container missing on port " + externalPort)
                    : backend.route();
        });
    }

    @AfterEach
    void stop() {
        proxy.close();
        backend.close();
    }

    @Test
    void jdkClientRequestsShareOneBackendConnection() throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> get = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/path" + i))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, get.statusCode());
            assertEquals("/path" + i, get.body());
            HttpResponse<String> post = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/echo"))
                    .POST(HttpRequest.BodyPublishers.ofString("body " + i)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals("body " + i, post.body());
        }
        assertEquals(10, backend.requests.get());
        assertEquals(1, backend.clientPorts.size(), "sequential requests reuse one pooled backend connection");
        assertEquals("127.0.0.1 8080 false", resolvedHosts.get(0), "host without port, external port, plain");
    }

    @Test
    void keepAliveConnectionCarriesSeveralRequestsAndHostIsNormalized() throws Exception {
        try (RawClient client = new RawClient(proxy.port())) {
            for (int i = 0; i < 3; i++) {
                client.send("GET /n" + i + " HTTP/1.1\r\nHost: ABC.Compute.Example.:8080\r\n\r\n");
                RawClient.Response response = client.read();
                assertEquals(200, response.status());
                assertEquals("/n" + i, response.text());
                assertNull(response.header("connection"));
            }
        }
        assertTrue(resolvedHosts.stream().allMatch(h -> h.equals("abc.compute.example 8080 false")), resolvedHosts.toString());
    }

    @Test
    void forwardedHeadersAddedAndHopByHopHeadersRemoved() throws Exception {
        try (RawClient client = new RawClient(proxy.port())) {
            client.send("GET /headers HTTP/1.1\r\nHost: a.example:8080\r\nX-Forwarded-For: 203.0.113.7\r\n"
                    + "Connection: keep-alive, X-Secret-Hop\r\nX-Secret-Hop: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n"
                    + "Trailer: X-T\r\nProxy-Authorization: Basic eDp5\r\nProxy-Connection: keep-alive\r\nUpgrade: h2c\r\n"
                    + "X-Kept: yes\r\n\r\n");
            String seen = client.read().text();
            assertTrue(seen.contains("x-forwarded-for: 203.0.113.7, 127.0.0.1\n"), seen);
            assertTrue(seen.contains("x-forwarded-proto: http\n"), seen);
            assertTrue(seen.contains("x-forwarded-host: a.example:8080\n"), seen);
            assertTrue(seen.contains("x-forwarded-port: 8080\n"), seen);
            assertTrue(seen.contains("host: a.example:8080\n"), seen);
            assertTrue(seen.contains("x-kept: yes\n"), seen);
            for (String hop : List.of("x-secret-hop", "keep-alive", "te", "trailer", "proxy-authorization", "proxy-connection", "upgrade")) {
                assertFalse(seen.contains(hop + ":"), hop + " must not reach the backend: " + seen);
            }
        }
    }

    @Test
    void http10IsClosedUnlessKeepAliveAsked() throws Exception {
        try (RawClient client = new RawClient(proxy.port())) {
            client.send("GET /one HTTP/1.0\r\nHost: a.example\r\n\r\n");
            RawClient.Response response = client.read();
            assertEquals("/one", response.text());
            assertEquals("close", response.header("connection"));
            assertTrue(client.closedByPeer());
        }
        try (RawClient client = new RawClient(proxy.port())) {
            client.send("GET /one HTTP/1.0\r\nHost: a.example\r\nConnection: keep-alive\r\n\r\n");
            RawClient.Response first = client.read();
            assertEquals("keep-alive", first.header("connection"));
            client.send("GET /two HTTP/1.0\r\nHost: a.example\r\nConnection: keep-alive\r\n\r\n");
            assertEquals("/two", client.read().text());
        }
    }

    @Test
    void http11ConnectionCloseIsHonoured() throws Exception {
        try (RawClient client = new RawClient(proxy.port())) {
            client.send("GET /bye HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n");
            RawClient.Response response = client.read();
            assertEquals("/bye", response.text());
            assertEquals("close", response.header("connection"));
            assertTrue(client.closedByPeer());
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (RawClient client = new RawClient(proxy.port())) {
            client.send("GET /slow?ms=300 HTTP/1.1\r\nHost: a.example\r\n\r\n"
                    + "POST /echo HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\n\r\nhello"
                    + "GET /third HTTP/1.1\r\nHost: a.example\r\n\r\n");
            assertEquals("/slow?ms=300", client.read().text());
            assertEquals("hello", client.read().text());
            assertEquals("/third", client.read().text());
        }
    }

    @Test
    void routeRefusalIsAnsweredAndConnectionKeptWhenNoBody() throws Exception {
        try (RawClient client = new RawClient(proxy.port())) {
            client.send("GET / HTTP/1.1\r\nHost: missing.compute.example\r\n\r\n");
            RawClient.Response refused = client.read();
            assertEquals(404, refused.status());
            assertEquals("no container missing on port 8080\n", refused.text());
            assertEquals("text/plain; charset=utf-8", refused.header("content-type"));
            client.send("GET /after HTTP/1.1\r\nHost: a.example\r\n\r\n");
            assertEquals("/after", client.read().text());
        }
        assertEquals(1, backend.requests.get());
    }

    @Test
    void routeRefusalWithBodyClosesTheConnection() throws Exception {
        try (RawClient client = new RawClient(proxy.port())) {
            client.send("POST / HTTP/1.1\r\nHost: missing.compute.example\r\nContent-Length: 3\r\n\r\nabc");
            RawClient.Response refused = client.read();
            assertEquals(404, refused.status());
            assertEquals("close", refused.header("connection"));
            assertTrue(client.closedByPeer());
        }
    }
}
