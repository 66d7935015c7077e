package com.ecloud.compute.runtime.docker.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Plain HTTP to the engine for the two things docker-java cannot do: HEAD requests (archive stat) and an exec
 * attach whose standard input can be half-closed (docker-java's hijacked stream never signals end of input).
 * Reads and writes go straight to the SocketChannel, which allows one reader and one writer at a time.
 */
final class EngineSocket {

    /** An upgraded (raw) connection and the bytes that arrived after the response head. */
    record Upgraded(SocketChannel channel, ByteBuffer leftover) {
    }

    /** A failed request: the HTTP status and the engine's message. */
    static final class StatusException extends IOException {
        private static final long serialVersionUID = 1L;
        final int status;

        StatusException(int status, String message) {
            super("Status " + status + ": " + message);
            this.status = status;
        }
    }

    private final URI dockerHost;
    private final String apiPrefix;

    EngineSocket(URI dockerHost, String apiVersion) {
        this.dockerHost = dockerHost;
        this.apiPrefix = "/v" + apiVersion;
    }

    /** The status code of {@code HEAD <path>} (path below the API version, with its query). */
    int head(String path) throws IOException {
        try (SocketChannel channel = connect()) {
            write(channel, "HEAD " + apiPrefix + path + " HTTP/1.0\r\nHost: docker\r\n\r\n");
            ByteBuffer buffer = ByteBuffer.allocate(8192);
            String head = readHead(channel, buffer);
            return status(head);
        }
    }

    /**
     * POSTs {@code jsonBody} to {@code path} asking for a raw (upgraded) connection, as {@code exec start}
     * answers with; throws a {@link StatusException} when the engine answers otherwise.
     */
    Upgraded upgrade(String path, String jsonBody) throws IOException {
        SocketChannel channel = connect();
        try {
            byte[] body = jsonBody.getBytes(StandardCharsets.UTF_8);
            write(channel, "POST " + apiPrefix + path + " HTTP/1.1\r\nHost: docker\r\n"
                    + "Content-Type: application/json\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                    + "Content-Length: " + body.length + "\r\n\r\n");
            writeFully(channel, ByteBuffer.wrap(body));
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            String head = readHead(channel, buffer);
            int status = status(head);
            if (status != 101 && status != 200) {
                throw new StatusException(status, errorBody(head, channel, buffer));
            }
            return new Upgraded(channel, buffer);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    SocketChannel connect() throws IOException {
        String scheme = dockerHost.getScheme().toLowerCase(Locale.ROOT);
        switch (scheme) {
            case "unix": {
                SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                try {
                    channel.connect(UnixDomainSocketAddress.of(dockerHost.getPath()));
                } catch (IOException e) {
                    channel.close();
                    throw e;
                }
                return channel;
            }
            case "tcp":
            case "http": {
                int port = dockerHost.getPort() > 0 ? dockerHost.getPort() : 2375;
                return SocketChannel.open(new InetSocketAddress(dockerHost.getHost(), port));
            }
            default:
                throw new IOException("raw engine connections support unix:// and tcp:// hosts, not " + dockerHost);
        }
    }

    private static void write(SocketChannel channel, String text) throws IOException {
        writeFully(channel, ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII)));
    }

    static void writeFully(SocketChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /**
     * Reads until the end of the response head; returns the head and leaves {@code buffer} in read mode holding
     * whatever came after it.
     */
    private static String readHead(SocketChannel channel, ByteBuffer buffer) throws IOException {
        while (true) {
            if (channel.read(buffer) < 0) {
                throw new IOException("the engine closed the connection before answering");
            }
            byte[] bytes = buffer.array();
            for (int i = 3; i < buffer.position(); i++) {
                if (bytes[i - 3] == '\r' && bytes[i - 2] == '\n' && bytes[i - 1] == '\r' && bytes[i] == '\n') {
                    String head = new String(bytes, 0, i + 1, StandardCharsets.ISO_8859_1);
                    buffer.flip();
                    buffer.position(i + 1);
                    return head;
                }
            }
            if (!buffer.hasRemaining()) throw new IOException("response head too long");
        }
    }

    private static int status(String head) throws IOException {
        // "HTTP/1.1 101 UPGRADED"
        String[] parts = head.split(" ", 3);
        try {
            return Integer.parseInt(parts[1].trim());
        } catch (RuntimeException e) {
            throw new IOException("not an HTTP response: " + head.lines().findFirst().orElse(""));
        }
    }

    /** The engine's message from an error response: Content-Length bytes, or up to the closing brace of its JSON. */
    private static String errorBody(String head, SocketChannel channel, ByteBuffer buffer) throws IOException {
        int expected = 8192;
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                expected = Math.min(expected, Integer.parseInt(line.substring(15).trim()));
            }
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(buffer.array(), buffer.position(), buffer.remaining());
        ByteBuffer more = ByteBuffer.allocate(8192);
        while (body.size() < expected && !body.toString(StandardCharsets.UTF_8).trim().endsWith("}")) {
            more.clear();
            int n = channel.read(more);
            if (n < 0) break;
            body.write(more.array(), 0, n);
        }
        return EngineErrors.engineMessage(new IOException(body.toString(StandardCharsets.UTF_8)));
    }
}
