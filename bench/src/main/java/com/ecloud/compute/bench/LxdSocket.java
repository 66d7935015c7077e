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

/**
 * LXD's REST API over its unix socket, as a hand-written client would speak it: one connection per request,
 * HTTP/1.1 with {@code Connection: close}, bodies with Content-Length or chunked. Every request has a deadline: a
 * watchdog closes the socket when it passes. Answers are LXD's envelopes ({@code sync}, {@code async},
 * {@code error}); {@link #call} waits for the operation of an {@code async} one.
 */
final class LxdSocket {

    /** Seconds per {@code /wait} request; LXD answers 200 with the operation still running when they pass. */
    private static final int WAIT_STEP_SECONDS = 30;

    record Reply(int status, String body) {
        Map<String, Object> json() {
            return Json.object(body);
        }

        Reply expect(int... statuses) throws IOException {
            for (int s : statuses) if (s == status) return this;
            throw new IOException("LXD answered " + status + ": " + Json.abbreviate(body.trim()));
        }
    }

    private final UnixDomainSocketAddress address;
    private final ScheduledExecutorService watchdog;
    private final Duration timeout;

    LxdSocket(Path socket, ScheduledExecutorService watchdog, Duration timeout) {
        this.address = UnixDomainSocketAddress.of(socket);
        this.watchdog = watchdog;
        this.timeout = timeout;
    }

    /** A path segment (instance, volume or alias name): percent-encoded, '/' included. */
    static String segment(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** GET of a sync resource: its {@code metadata}, or null when LXD answers 404. */
    Object getOrNull(String path) throws IOException {
        Reply reply = request("GET", path, null, null, Map.of());
        if (reply.status() == 404) return null;
        return reply.expect(200).json().get("metadata");
    }

    /**
     * A request with a JSON body (null: none): for a sync answer its {@code metadata}, for an async one the
     * operation's metadata once it has ended with Success; anything else is an IOException with LXD's text.
     */
    Object call(String method, String path, String jsonBody) throws IOException {
        Reply reply = request(method, path, jsonBody == null ? null : "application/json",
                jsonBody == null ? null : jsonBody.getBytes(StandardCharsets.UTF_8), Map.of());
        Map<String, Object> envelope = reply.json();
        if ("error".equals(envelope.get("type")) || reply.status() >= 300) {
            throw new IOException(method + " " + path + ": LXD answered " + reply.status() + ": " + envelope.get("error"));
        }
        if ("async".equals(envelope.get("type"))) return awaitOperation(method + " " + path, (String) envelope.get("operation"));
        return envelope.get("metadata");
    }

    /** Waits for an operation to end; its metadata on Success, an IOException with its error otherwise. */
    @SuppressWarnings("unchecked")
    Map<String, Object> awaitOperation(String action, String operation) throws IOException {
        if (operation == null || operation.isEmpty()) throw new IOException(action + ": LXD named no operation");
        for (int step = 0; step < 20; step++) {
            Object op = request("GET", operation + "/wait?timeout=" + WAIT_STEP_SECONDS, null, null, Map.of())
                    .expect(200).json().get("metadata");
            String status = String.valueOf(Json.at(op, "status"));
            switch (status) {
                case "Running", "Pending", "Started", "Created" -> {
                    // the wait step expired: ask again
                }
                case "Success" -> {
                    return (Map<String, Object>) op;
                }
                default -> throw new IOException(action + ": " + status + ": " + Json.at(op, "err"));
            }
        }
        throw new IOException(action + ": still running after " + 20 * WAIT_STEP_SECONDS + " s");
    }

    /** Any request, with a body of any type (null: none) and extra headers. */
    Reply request(String method, String path, String contentType, byte[] requestBody, Map<String, String> headers)
            throws IOException {
        try (SocketChannel channel = SocketChannel.open(address)) {
            ScheduledFuture<?> guard = watchdog.schedule(() -> closeQuietly(channel), timeout.toMillis(),
                    TimeUnit.MILLISECONDS);
            try {
                byte[] body = requestBody == null ? new byte[0] : requestBody;
                StringBuilder head = new StringBuilder().append(method).append(' ').append(path).append(" HTTP/1.1\r\n")
                        .append("Host: lxd\r\nConnection: close\r\n");
                if (contentType != null) head.append("Content-Type: ").append(contentType).append("\r\n");
                headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
                if (requestBody != null || !method.equals("GET")) head.append("Content-Length: ").append(body.length).append("\r\n");
                head.append("\r\n");
                byte[] headBytes = head.toString().getBytes(StandardCharsets.UTF_8);
                ByteBuffer out = ByteBuffer.allocate(headBytes.length + body.length);
                out.put(headBytes).put(body).flip();
                while (out.hasRemaining()) channel.write(out);
                return readReply(new BufferedInputStream(Channels.newInputStream(channel)));
            } finally {
                guard.cancel(false);
            }
        }
    }

    private static Reply readReply(InputStream in) throws IOException {
        String statusLine = readLine(in);
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) throw new IOException("not HTTP: " + statusLine);
        int status = Integer.parseInt(parts[1]);
        boolean chunked = false;
        int length = -1;
        for (String line; !(line = readLine(in)).isEmpty(); ) {
            int colon = line.indexOf(':');
            if (colon < 0) continue;
            String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim();
            if (name.equals("transfer-encoding") && value.toLowerCase(Locale.ROOT).contains("chunked")) chunked = true;
            if (name.equals("content-length")) length = Integer.parseInt(value);
        }
        byte[] body;
        if (status == 204 || status == 304) {
            body = new byte[0];
        } else if (chunked) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            while (true) {
                String sizeLine = readLine(in);
                int semicolon = sizeLine.indexOf(';');
                int size = Integer.parseInt((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
                if (size == 0) break;
                byte[] chunk = in.readNBytes(size);
                if (chunk.length < size) throw new IOException("truncated chunk");
                all.write(chunk);
                readLine(in);
            }
            body = all.toByteArray();
        } else if (length >= 0) {
            body = in.readNBytes(length);
        } else {
            body = in.readAllBytes();
        }
        return new Reply(status, new String(body, StandardCharsets.UTF_8));
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
