package com.ecloud.compute.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLEncoder;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The Docker Engine API (version {@value #VERSION}) over its unix socket: one connection per request, HTTP/1.1
 * with {@code Connection: close}, bodies with Content-Length or chunked. Every request has a deadline: a
 * watchdog closes the socket when it passes.
 */
final class DockerEngine {

    static final String VERSION = "1.41";

    record Reply(int status, String body) {
        Map<String, Object> json() {
            return Json.object(body);
        }

        Reply expect(int... statuses) throws IOException {
            for (int s : statuses) if (s == status) return this;
            throw new IOException("engine answered " + status + ": " + Json.abbreviate(body.trim()));
        }
    }

    private final UnixDomainSocketAddress address;
    private final ScheduledExecutorService watchdog;
    private final Duration timeout;

    DockerEngine(Path socket, ScheduledExecutorService watchdog, Duration timeout) {
        this.address = UnixDomainSocketAddress.of(socket);
        this.watchdog = watchdog;
        this.timeout = timeout;
    }

    Reply get(String path) throws IOException {
        return request("GET", path, null);
    }

    Reply post(String path, String jsonBody) throws IOException {
        return request("POST", path, jsonBody);
    }

    Reply delete(String path) throws IOException {
        return request("DELETE", path, null);
    }

    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    Reply request(String method, String path, String jsonBody) throws IOException {
        byte[] body = jsonBody == null ? null : jsonBody.getBytes(StandardCharsets.UTF_8);
        BinaryReply reply = exchange(method, path, jsonBody == null ? null : "application/json", body);
        return new Reply(reply.status(), new String(reply.body(), StandardCharsets.UTF_8));
    }

    /** An answer whose body is bytes (a tar from the archive endpoint). */
    record BinaryReply(int status, byte[] body) {
    }

    /** Any request, with a body of any type (null: none); a HEAD answer has no body. */
    BinaryReply exchange(String method, String path, String contentType, byte[] requestBody) throws IOException {
        try (SocketChannel channel = SocketChannel.open(address)) {
            ScheduledFuture<?> guard = watchdog.schedule(() -> closeQuietly(channel), timeout.toMillis(),
                    TimeUnit.MILLISECONDS);
            try {
                sendRequest(channel, method, path, contentType, requestBody);
                InputStream in = new BufferedInputStream(Channels.newInputStream(channel));
                Head head = readHead(in);
                byte[] body;
                if (method.equals("HEAD") || head.status == 204 || head.status == 304) {
                    body = new byte[0];
                } else if (head.chunked) {
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    readChunks(in, chunk -> out.write(chunk, 0, chunk.length));
                    body = out.toByteArray();
                } else if (head.contentLength >= 0) {
                    body = in.readNBytes(head.contentLength);
                } else {
                    body = in.readAllBytes();
                }
                return new BinaryReply(head.status, body);
            } finally {
                guard.cancel(false);
            }
        }
    }

    /**
     * A request answered with {@code 101 UPGRADED} (e.g. {@code POST /exec/{id}/start}): the connection then carries
     * the raw stream both ways (with a TTY: the terminal's bytes, no multiplexing headers). The caller owns the
     * channel; the head is read byte by byte, so nothing after it is consumed.
     */
    SocketChannel upgrade(String path, String jsonBody) throws IOException {
        SocketChannel channel = SocketChannel.open(address);
        ScheduledFuture<?> guard = watchdog.schedule(() -> closeQuietly(channel), timeout.toMillis(),
                TimeUnit.MILLISECONDS);
        try {
            byte[] body = jsonBody.getBytes(StandardCharsets.UTF_8);
            String head = "POST /v" + VERSION + path + " HTTP/1.1\r\nHost: docker\r\n"
                    + "Content-Type: application/json\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                    + "Content-Length: " + body.length + "\r\n\r\n";
            ByteBuffer out = ByteBuffer.allocate(head.length() + body.length);
            out.put(head.getBytes(StandardCharsets.ISO_8859_1)).put(body).flip();
            while (out.hasRemaining()) channel.write(out);
            Head reply = readHead(Channels.newInputStream(channel));
            if (reply.status != 101 && reply.status != 200) throw new IOException("upgrade: engine answered " + reply.status);
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        } finally {
            guard.cancel(false);
        }
    }

    /**
     * Follows the engine's container events until closed; each event is handed over as its JSON object. The
     * stream runs on a daemon thread of its own and reconnects when it breaks (the engine restarted), at most
     * {@value #MAX_RECONNECTS} times; events while it was away are lost.
     */
    Closeable events(Consumer<Map<String, Object>> onEvent) {
        AtomicBoolean closed = new AtomicBoolean();
        AtomicReference<SocketChannel> current = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            for (int attempt = 0; attempt <= MAX_RECONNECTS && !closed.get(); attempt++) {
                try (SocketChannel channel = SocketChannel.open(address)) {
                    current.set(channel);
                    if (closed.get()) return;
                    follow(channel, onEvent);
                } catch (IOException | RuntimeException broken) {
                    // reconnect below
                }
                if (closed.get()) return;
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "docker-events");
        reader.setDaemon(true);
        reader.start();
        return () -> {
            closed.set(true);
            SocketChannel channel = current.get();
            if (channel != null) channel.close();
        };
    }

    private static final int MAX_RECONNECTS = 100;

    private void follow(SocketChannel channel, Consumer<Map<String, Object>> onEvent) throws IOException {
        String filters = encode("{\"type\":[\"container\"]}");
        sendRequest(channel, "GET", "/events?filters=" + filters, null, null);
        InputStream in = new BufferedInputStream(Channels.newInputStream(channel));
        Head head = readHead(in);
        if (head.status != 200) throw new IOException("events: engine answered " + head.status);
        StringBuilder pending = new StringBuilder();
        ChunkSink onChunk = chunk -> {
            pending.append(new String(chunk, StandardCharsets.UTF_8));
            int newline;
            while ((newline = pending.indexOf("\n")) >= 0) {
                String line = pending.substring(0, newline).trim();
                pending.delete(0, newline + 1);
                if (!line.isEmpty()) onEvent.accept(Json.object(line));
            }
        };
        if (head.chunked) {
            readChunks(in, onChunk);
        } else {
            byte[] buffer = new byte[8192];
            for (int n; (n = in.read(buffer)) > 0; ) onChunk.accept(java.util.Arrays.copyOf(buffer, n));
        }
    }

    private void sendRequest(SocketChannel channel, String method, String path, String contentType, byte[] requestBody)
            throws IOException {
        byte[] body = requestBody == null ? new byte[0] : requestBody;
        StringBuilder head = new StringBuilder()
                .append(method).append(" /v").append(VERSION).append(path).append(" HTTP/1.1\r\n")
                .append("Host: docker\r\n")
                .append("Connection: close\r\n");
        if (contentType != null) head.append("Content-Type: ").append(contentType).append("\r\n");
        if (requestBody != null || !(method.equals("GET") || method.equals("HEAD"))) {
            head.append("Content-Length: ").append(body.length).append("\r\n");
        }
        head.append("\r\n");
        ByteBuffer out = ByteBuffer.allocate(head.length() * 3 + body.length);
        out.put(head.toString().getBytes(StandardCharsets.UTF_8)).put(body).flip();
        while (out.hasRemaining()) channel.write(out);
    }

    private record Head(int status, boolean chunked, int contentLength) {
    }

    private static Head readHead(InputStream in) throws IOException {
        String statusLine = readLine(in);
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) throw new IOException("not HTTP: " + statusLine);
        int status = Integer.parseInt(parts[1]);
        boolean chunked = false;
        int length = -1;
        for (int i = 0; i < 200; i++) {
            String line = readLine(in);
            if (line.isEmpty()) return new Head(status, chunked, length);
            int colon = line.indexOf(':');
            if (colon < 0) continue;
            String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim();
            if (name.equals("transfer-encoding") && value.toLowerCase(Locale.ROOT).contains("chunked")) chunked = true;
            if (name.equals("content-length")) length = Integer.parseInt(value);
        }
        throw new IOException("too many header lines");
    }

    private interface ChunkSink {
        void accept(byte[] chunk) throws IOException;
    }

    private static void readChunks(InputStream in, ChunkSink sink) throws IOException {
        while (true) {
            String sizeLine = readLine(in);
            int semicolon = sizeLine.indexOf(';');
            int size = Integer.parseInt((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
            if (size == 0) {
                readLine(in); // the empty line after the last chunk (no trailers from the engine)
                return;
            }
            byte[] chunk = in.readNBytes(size);
            if (chunk.length < size) throw new IOException("truncated chunk");
            readLine(in);
            sink.accept(chunk);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int i = 0; i < 64 * 1024; i++) {
            int b = in.read();
            if (b < 0) throw new IOException("connection closed");
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
            }
            line.write(b);
        }
        throw new IOException("header line too long");
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // the deadline passed: the request fails with the closed channel
        }
    }
}
