package com.ecloud.compute.bench;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLEncoder;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The Docker Engine API (version {@value #VERSION}) over its unix socket ({@link UnixHttp}: one connection per
 * request, each with a deadline).
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

    private final UnixHttp http;

    DockerEngine(Path socket, ScheduledExecutorService watchdog, Duration timeout) {
        this.http = new UnixHttp(socket, watchdog, timeout, "docker", "/v" + VERSION);
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
        UnixHttp.Reply reply = http.exchange(method, path, contentType, requestBody, Map.of());
        return new BinaryReply(reply.status(), reply.body());
    }

    /**
     * A request answered with {@code 101 UPGRADED} (e.g. {@code POST /exec/{id}/start}): the connection then carries
     * the raw stream both ways (with a TTY: the terminal's bytes, no multiplexing headers). The caller owns the
     * channel; the head is read byte by byte, so nothing after it is consumed.
     */
    SocketChannel upgrade(String path, String jsonBody) throws IOException {
        SocketChannel channel = http.open();
        ScheduledFuture<?> guard = http.deadline(channel);
        try {
            http.send(channel, "POST", path, "application/json", jsonBody.getBytes(StandardCharsets.UTF_8),
                    Map.of("Connection", "Upgrade", "Upgrade", "tcp"));
            UnixHttp.Head reply = UnixHttp.readHead(Channels.newInputStream(channel));
            if (reply.status() != 101 && reply.status() != 200) {
                throw new IOException("upgrade: engine answered " + reply.status());
            }
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
                try (SocketChannel channel = http.open()) {
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
        http.send(channel, "GET", "/events?filters=" + filters, null, null, Map.of());
        InputStream in = new BufferedInputStream(Channels.newInputStream(channel));
        UnixHttp.Head head = UnixHttp.readHead(in);
        if (head.status() != 200) throw new IOException("events: engine answered " + head.status());
        StringBuilder pending = new StringBuilder();
        UnixHttp.ChunkSink onChunk = chunk -> {
            pending.append(new String(chunk, StandardCharsets.UTF_8));
            int newline;
            while ((newline = pending.indexOf("\n")) >= 0) {
                String line = pending.substring(0, newline).trim();
                pending.delete(0, newline + 1);
                if (!line.isEmpty()) onEvent.accept(Json.object(line));
            }
        };
        if (head.chunked()) {
            UnixHttp.readChunks(in, onChunk);
        } else {
            byte[] buffer = new byte[8192];
            for (int n; (n = in.read(buffer)) > 0; ) onChunk.accept(java.util.Arrays.copyOf(buffer, n));
        }
    }
}
