package com.ecloud.compute.gateway.internal.proxy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP backend (JDK HttpServer) with a few behaviours chosen by path:
 * /headers (request headers as "name: value" lines), /echo (request body back), /slow?ms=N, /download?bytes=N,
 * /upload?pauseMs=N (body length), /hold (waits for {@link #releaseHeld}).
 */
final class TestBackend implements AutoCloseable {
    final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    final Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();
    final AtomicInteger requests = new AtomicInteger();
    final AtomicInteger held = new AtomicInteger();
    private volatile CountDownLatch holdGate = new CountDownLatch(1);

    TestBackend() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 100);
        server.setExecutor(threads);
        server.createContext("/", this::handle);
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    Route.Backend route() {
        return new Route.Backend("127.0.0.1", port());
    }

    void releaseHeld() {
        holdGate.countDown();
    }

    private void handle(HttpExchange exchange) throws IOException {
        requests.incrementAndGet();
        clientPorts.add(exchange.getRemoteAddress().getPort());
        URI uri = exchange.getRequestURI();
        Map<String, String> query = query(uri);
        String path = uri.getPath();
        try (exchange) {
            switch (path) {
                case "/headers" -> {
                    StringBuilder text = new StringBuilder();
                    Map<String, List<String>> sorted = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
                    exchange.getRequestHeaders().forEach((k, v) -> sorted.computeIfAbsent(k, x -> new ArrayList<>()).addAll(v));
                    sorted.forEach((k, v) -> v.forEach(value -> text.append(k.toLowerCase()).append(": ").append(value).append('\n')));
                    respond(exchange, 200, text.toString());
                }
                case "/echo" -> {
                    byte[] body = exchange.getRequestBody().readAllBytes();
                    exchange.sendResponseHeaders(200, body.length == 0 ? -1 : body.length);
                    exchange.getResponseBody().write(body);
                }
                case "/slow" -> {
                    sleep(Long.parseLong(query.getOrDefault("ms", "100")));
                    respond(exchange, 200, path + "?" + uri.getQuery());
                }
                case "/download" -> {
                    long bytes = Long.parseLong(query.get("bytes"));
                    exchange.sendResponseHeaders(200, bytes);
                    byte[] block = new byte[64 * 1024];
                    for (int i = 0; i < block.length; i++) block[i] = (byte) i;
                    OutputStream out = exchange.getResponseBody();
                    for (long sent = 0; sent < bytes; sent += block.length) out.write(block, 0, (int) Math.min(block.length, bytes - sent));
                }
                case "/upload" -> {
                    sleep(Long.parseLong(query.getOrDefault("pauseMs", "0")));
                    long total = 0;
                    byte[] buffer = new byte[64 * 1024];
                    InputStream in = exchange.getRequestBody();
                    for (int n; (n = in.read(buffer)) >= 0; ) total += n;
                    respond(exchange, 200, Long.toString(total));
                }
                case "/hold" -> {
                    held.incrementAndGet();
                    try {
                        holdGate.await(20, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    respond(exchange, 200, "released");
                }
                default -> respond(exchange, 200, path);
            }
        }
    }

    private static void respond(HttpExchange exchange, int status, String text) throws IOException {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain");
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        exchange.getResponseBody().write(body);
    }

    private static Map<String, String> query(URI uri) {
        Map<String, String> values = new TreeMap<>();
        if (uri.getQuery() != null) {
            for (String pair : uri.getQuery().split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0) values.put(pair.substring(0, eq), pair.substring(eq + 1));
            }
        }
        return values;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        holdGate.countDown();
        server.stop(0);
        threads.shutdownNow();
    }
}
