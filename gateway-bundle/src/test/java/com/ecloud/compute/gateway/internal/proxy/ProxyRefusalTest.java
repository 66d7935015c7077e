package com.ecloud.compute.gateway.internal.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Requests refused before anything reaches a backend; each refusal closes the connection. */
class ProxyRefusalTest {
    private static final int MAX_HEADER_BYTES = 1024;
    private static final long MAX_BODY_BYTES = 1000;
    private TestBackend backend;
    private ProxyFixture proxy;

    @BeforeEach
    void start() throws Exception {
        backend = new TestBackend();
        proxy = new ProxyFixture(ProxyFixture.settings(MAX_HEADER_BYTES, MAX_BODY_BYTES, Duration.ofSeconds(10), Duration.ofSeconds(10), 4),
                (host, port, tls) -> backend.route());
    }

    @AfterEach
    void stop() {
        proxy.close();
        backend.close();
    }

    private RawClient.Response refused(String request, int status, String reasonPart) throws IOException {
        try (RawClient client = new RawClient(proxy.port())) {
            client.send(request);
            RawClient.Response response = client.read();
            assertEquals(status, response.status(), response.text());
            assertTrue(response.text().contains(reasonPart), response.text());
            assertTrue(response.text().endsWith("\n") && response.text().indexOf('\n') == response.text().length() - 1,
                    "one line: " + response.text());
            assertEquals("text/plain; charset=utf-8", response.header("content-type"));
            assertEquals(Integer.toString(response.body().length), response.header("content-length"));
            assertEquals("close", response.header("connection"));
            assertTrue(client.closedByPeer(), "the connection is closed after a refusal");
            assertEquals(0, backend.requests.get(), "nothing reached the backend");
            return response;
        }
    }

    @Test
    void contentLengthWithTransferEncodingIsRefused() throws Exception {
        refused("POST /echo HTTP/1.1\r\nHost: a.example\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                400, "both Content-Length and Transfer-Encoding");
    }

    @Test
    void transferEncodingWithContentLengthFirstIsRefused() throws Exception {
        refused("POST /echo HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n",
                400, "both Content-Length and Transfer-Encoding");
    }

    @Test
    void transferEncodingOtherThanChunkedIsRefused() throws Exception {
        refused("POST /echo HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 400, "ransfer");
        refused("POST /echo HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n",
                400, "ransfer");
        refused("POST /echo HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: identity\r\n\r\n", 400, "ransfer");
    }

    @Test
    void severalContentLengthsAreRefused() throws Exception {
        refused("POST /echo HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400, "");
        refused("POST /echo HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3, 3\r\n\r\nabc", 400, "");
    }

    @Test
    void nonNumericContentLengthIsRefused() throws Exception {
        refused("POST /echo HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3x\r\n\r\nabc", 400, "");
        refused("POST /echo HTTP/1.1\r\nHost: a.example\r\nContent-Length: -3\r\n\r\nabc", 400, "");
        refused("POST /echo HTTP/1.1\r\nHost: a.example\r\nContent-Length: +3\r\n\r\nabc", 400, "");
    }

    @Test
    void missingOrRepeatedHostIsRefused() throws Exception {
        refused("GET / HTTP/1.1\r\n\r\n", 400, "no Host header");
        refused("GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n", 400, "several Host headers");
        refused("GET / HTTP/1.1\r\nHost: a.example/x\r\n\r\n", 400, "Host header is malformed");
        refused("GET / HTTP/1.1\r\nHost: a.example:80x\r\n\r\n", 400, "Host header is malformed");
    }

    @Test
    void malformedRequestLinesAndHeadersAreRefused() throws Exception {
        refused("GARBAGE\r\n\r\n", 400, "malformed");
        refused("GET / HTTP/1.1\r\nHost: a.example\r\nBad Header: x\r\n\r\n", 400, "malformed");
        refused("GET / HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400, "");
        refused("GET / HTTP/1.1\nHost: a.example\n\n", 400, "malformed");
    }

    @Test
    void absoluteTargetNamingAnotherHostIsRefused() throws Exception {
        refused("GET http://other.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n", 400, "does not match the Host header");
        refused("GET http://a.example@other.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n", 400, "does not match the Host header");
    }

    @Test
    void connectIsRefused() throws Exception {
        refused("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", 405, "CONNECT");
    }

    @Test
    void absoluteTargetNamingTheHostPasses() throws Exception {
        try (RawClient client = new RawClient(proxy.port())) {
            client.send("GET http://A.example:8080/abs HTTP/1.1\r\nHost: a.example\r\n\r\n");
            assertEquals(200, client.read().status());
        }
    }

    @Test
    void headerBlockOverLimitIs431() throws Exception {
        refused("GET / HTTP/1.1\r\nHost: a.example\r\nX-Big: " + "x".repeat(MAX_HEADER_BYTES) + "\r\n\r\n", 431, "header");
    }

    @Test
    void declaredBodyOverLimitIs413() throws Exception {
        refused("POST /upload HTTP/1.1\r\nHost: a.example\r\nContent-Length: " + (MAX_BODY_BYTES + 1) + "\r\n\r\n", 413, "larger than");
    }

    @Test
    void chunkedBodyOverLimitIs413AndClosed() throws Exception {
        try (RawClient client = new RawClient(proxy.port())) {
            client.send("POST /upload?pauseMs=0 HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n");
            String chunk = "x".repeat(400);
            for (int i = 0; i < 3; i++) client.send(Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n");
            RawClient.Response response = client.read();
            assertEquals(413, response.status());
            assertEquals("close", response.header("connection"));
            assertTrue(client.closedByPeer());
        }
    }

    @Test
    void chunkedBodyWithinLimitPasses() throws Exception {
        try (RawClient client = new RawClient(proxy.port())) {
            client.send("POST /upload HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n");
            RawClient.Response response = client.read();
            assertEquals(200, response.status());
            assertEquals("8", response.text());
        }
    }
}
