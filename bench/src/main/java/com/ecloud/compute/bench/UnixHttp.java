package com.ecloud.compute.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
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
 * HTTP/1.1 over a unix socket as a hand-written client speaks it (the JDK's HttpClient cannot): one connection per
 * request with {@code Connection: close}, bodies with Content-Length or chunked. Every request has a deadline: a
 * watchdog closes the socket when it passes. Shared by the benchmarks' Docker Engine and LXD clients, which add
 * their APIs on top ({@code pathPrefix}: Docker's API version).
 */
final class UnixHttp {

    /** An answer whose body is bytes. */
    record Reply(int status, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** A response head: status and how the body comes. */
    record Head(int status, boolean chunked, int contentLength) {
    }

    interface ChunkSink {
        void accept(byte[] chunk) throws IOException;
    }

    private final UnixDomainSocketAddress address;
    private final ScheduledExecutorService watchdog;
    private final Duration timeout;
    private final String host;
    private final String pathPrefix;

    UnixHttp(Path socket, ScheduledExecutorService watchdog, Duration timeout, String host, String pathPrefix) {
        this.address = UnixDomainSocketAddress.of(socket);
        this.watchdog = watchdog;
        this.timeout = timeout;
        this.host = host;
        this.pathPrefix = pathPrefix;
    }

    SocketChannel open() throws IOException {
        return SocketChannel.open(address);
    }

    /** Closes the channel when the deadline passes, unless the returned guard is cancelled first. */
    ScheduledFuture<?> deadline(SocketChannel channel) {
        return watchdog.schedule(() -> closeQuietly(channel), timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Any request, with a body of any type (null: none) and extra headers; a HEAD answer has no body. */
    Reply exchange(String method, String path, String contentType, byte[] requestBody, Map<String, String> headers)
            throws IOException {
        try (SocketChannel channel = open()) {
            ScheduledFuture<?> guard = deadline(channel);
            try {
                send(channel, method, path, contentType, requestBody, headers);
                InputStream in = new BufferedInputStream(Channels.newInputStream(channel));
                Head head = readHead(in);
                byte[] body;
                if (method.equals("HEAD") || head.status() == 204 || head.status() == 304) {
                    body = new byte[0];
                } else if (head.chunked()) {
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    readChunks(in, chunk -> out.write(chunk, 0, chunk.length));
                    body = out.toByteArray();
                } else if (head.contentLength() >= 0) {
                    body = in.readNBytes(head.contentLength());
                } else {
                    body = in.readAllBytes();
                }
                return new Reply(head.status(), body);
            } finally {
                guard.cancel(false);
            }
        }
    }

    /** Writes a request head (and body) with {@code Connection: close} unless {@code headers} name a Connection. */
    void send(SocketChannel channel, String method, String path, String contentType, byte[] requestBody,
            Map<String, String> headers) throws IOException {
        byte[] body = requestBody == null ? new byte[0] : requestBody;
        StringBuilder head = new StringBuilder()
                .append(method).append(' ').append(pathPrefix).append(path).append(" HTTP/1.1\r\n")
                .append("Host: ").append(host).append("\r\n");
        if (!headers.containsKey("Connection")) head.append("Connection: close\r\n");
        if (contentType != null) head.append("Content-Type: ").append(contentType).append("\r\n");
        headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        if (requestBody != null || !(method.equals("GET") || method.equals("HEAD"))) {
            head.append("Content-Length: ").append(body.length).append("\r\n");
        }
        head.append("\r\n");
        byte[] headBytes = head.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(headBytes.length + body.length);
        out.put(headBytes).put(body).flip();
        while (out.hasRemaining()) channel.write(out);
    }

    static Head readHead(InputStream in) throws IOException {
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

    static void readChunks(InputStream in, ChunkSink sink) throws IOException {
        while (true) {
            String sizeLine = readLine(in);
            int semicolon = sizeLine.indexOf(';');
            int size = Integer.parseInt((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
            if (size == 0) {
                readLine(in); // the empty line after the last chunk (no trailers here)
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

    static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // the deadline passed: the request fails with the closed channel
        }
    }
}
