package com.ecloud.compute.runtime.lxd.internal;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.security.SecureRandom;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.ssl.ClientTlsStrategyBuilder;
import org.apache.hc.client5.http.ssl.NoopHostnameVerifier;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.util.Timeout;

import com.ecloud.compute.api.runtime.RuntimeFailure;
import com.ecloud.compute.api.runtime.RuntimeNotFoundException;
import com.ecloud.compute.api.runtime.RuntimeRejectedException;
import com.ecloud.compute.api.runtime.RuntimeUnavailableException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;

/**
 * LXD's REST API over its unix socket (HttpClient 5.6 speaks HTTP over a unix domain socket by itself).
 *
 * <p>Every answer is one of LXD's envelopes: {@code sync} (the result is {@code metadata}), {@code async} (an
 * operation, which {@link #call} waits for) or {@code error}. Failures become the runtime SPI's typed errors (see
 * {@link #failure}); their message names the action and carries LXD's own text, which callers may test with
 * {@link #lxdError}.
 */
final class LxdClient implements AutoCloseable {

    /** Seconds per {@code /wait} call: LXD answers 200 with the operation still running when it expires. */
    private static final int WAIT_STEP_SECONDS = 30;

    private final Path socket;
    private final ObjectMapper json;
    private final URI endpoint;
    private final SSLContext tls;
    /** Scheme and authority of every request (LXD ignores the host part on its unix socket). */
    private final String base;
    private final CloseableHttpClient http;
    private final RequestConfig requestConfig;
    private final SecureRandom random = new SecureRandom();

    /** LXD on this machine, over its unix socket. */
    LxdClient(Path socket, ObjectMapper json) {
        this(socket, null, null, json);
    }

    /** A remote LXD server over HTTPS ({@code https://host:8443}), with a client certificate (see {@link LxdTls}). */
    LxdClient(URI endpoint, SSLContext tls, ObjectMapper json) {
        this(null, endpoint, tls, json);
    }

    private LxdClient(Path socket, URI endpoint, SSLContext tls, ObjectMapper json) {
        this.socket = socket;
        this.endpoint = endpoint;
        this.tls = tls;
        this.json = json;
        if (endpoint != null && (!"https".equals(endpoint.getScheme()) || endpoint.getHost() == null)) {
            throw new IllegalArgumentException("a remote LXD is reached as https://host:port, not " + endpoint);
        }
        this.base = endpoint == null ? "http://lxd" : "https://" + endpoint.getHost() + ":" + port();
        PoolingHttpClientConnectionManagerBuilder connections = PoolingHttpClientConnectionManagerBuilder.create()
                .setMaxConnTotal(32).setMaxConnPerRoute(32)
                .setDefaultConnectionConfig(ConnectionConfig.custom().setConnectTimeout(Timeout.ofSeconds(5))
                        .build());
        if (tls != null) {
            // the server's certificate is pinned (LxdTls): it, not a host name, says who the server is
            connections.setTlsSocketStrategy(ClientTlsStrategyBuilder.create().setSslContext(tls)
                    .setHostnameVerifier(NoopHostnameVerifier.INSTANCE).buildClassic());
        }
        // a wait step plus room: no call on this client legitimately takes longer than one step
        RequestConfig.Builder config = RequestConfig.custom().setConnectionRequestTimeout(Timeout.ofSeconds(30))
                .setResponseTimeout(Timeout.ofSeconds(WAIT_STEP_SECONDS + 30L));
        if (socket != null) config.setUnixDomainSocket(socket);
        this.requestConfig = config.build();
        this.http = HttpClients.custom().setConnectionManager(connections.build()).setDefaultRequestConfig(requestConfig)
                .disableAutomaticRetries().disableRedirectHandling().build();
    }

    private int port() {
        return endpoint.getPort() > 0 ? endpoint.getPort() : 8443;
    }

    /** Where this client reaches LXD, for messages. */
    String where() {
        return socket != null ? socket.toString() : base;
    }

    /** GET of a sync resource: its {@code metadata}. */
    JsonNode get(String path) {
        return call("GET", path, null);
    }

    /**
     * A request with an optional JSON body; for {@code async} answers it waits until the operation has ended and
     * returns the operation, for {@code sync} ones the {@code metadata}.
     */
    JsonNode call(String method, String path, Object body) {
        byte[] content = null;
        if (body != null) {
            try {
                content = json.writeValueAsBytes(body);
            } catch (IOException e) {
                throw new RuntimeRejectedException(method + " " + path + ": cannot write the request: " + e, e);
            }
        }
        JsonNode envelope = send(method, path, content, ContentType.APPLICATION_JSON, Map.of());
        if ("async".equals(envelope.path("type").asText())) {
            return awaitOperation(method + " " + path, envelope.path("operation").asText());
        }
        return envelope.path("metadata");
    }

    /**
     * Sends a request that answers with an operation (exec in WebSocket mode) and returns its envelope without waiting:
     * {@code operation} names it, {@code metadata.metadata} holds what it offers (e.g. WebSocket secrets).
     */
    JsonNode startOperation(String path, Object body) {
        byte[] content;
        try {
            content = json.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new RuntimeRejectedException("POST " + path + ": cannot write the request: " + e, e);
        }
        JsonNode envelope = send("POST", path, content, ContentType.APPLICATION_JSON, Map.of());
        if (!"async".equals(envelope.path("type").asText()) || envelope.path("operation").asText().isEmpty()) {
            throw new RuntimeRejectedException("POST " + path + ": LXD started no operation");
        }
        return envelope;
    }

    /** Opens one of an operation's WebSockets ({@code /1.0/operations/<id>/websocket?secret=…}) or the events'. */
    LxdWebSocket webSocket(String path) {
        try {
            if (socket != null) return LxdWebSocket.open(unixLink(socket), "lxd", path, random);
            return LxdWebSocket.open(tlsLink(tls, endpoint.getHost(), port()), endpoint.getHost() + ":" + port(), path,
                    random);
        } catch (IOException e) {
            throw unreachable("WebSocket " + path.replaceAll("secret=[^&]*", "secret=…"), e);
        }
    }

    /** A WebSocket's byte streams and what closes them. */
    private record StreamLink(InputStream in, OutputStream out, Closeable connection) implements LxdWebSocket.Link {
        @Override
        public void close() {
            try {
                connection.close();
            } catch (IOException e) {
                // closing: nothing to do about it
            }
        }
    }

    /** A TLS connection to a remote LXD, with the client certificate. */
    private static LxdWebSocket.Link tlsLink(SSLContext tls, String host, int port) throws IOException {
        SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket();
        try {
            socket.connect(new java.net.InetSocketAddress(host, port), 5000);
            socket.startHandshake();
            return new StreamLink(new BufferedInputStream(socket.getInputStream(), 64 * 1024), socket.getOutputStream(),
                    socket);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /**
     * A blocking connection to the unix socket. Reads and writes go straight to the channel (which allows one
     * reader and one writer at a time), not through {@code Channels.newInputStream}, whose streams share a lock
     * that a pending read holds, so a write would wait for the next frame from LXD.
     */
    private static LxdWebSocket.Link unixLink(Path socket) throws IOException {
        SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        InputStream in = new BufferedInputStream(new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                if (length == 0) return 0;
                return channel.read(ByteBuffer.wrap(buffer, offset, length));
            }
        }, 64 * 1024);
        OutputStream out = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] buffer, int offset, int length) throws IOException {
                ByteBuffer data = ByteBuffer.wrap(buffer, offset, length);
                while (data.hasRemaining()) channel.write(data);
            }
        };
        return new StreamLink(in, out, channel);
    }

    /** Waits for an operation ({@code /1.0/operations/<id>}) to end; its metadata, or the typed failure. */
    JsonNode awaitOperation(String action, String operation) {
        if (operation.isEmpty()) throw new RuntimeRejectedException(action + ": LXD named no operation");
        while (true) {
            JsonNode op = send("GET", operation + "/wait?timeout=" + WAIT_STEP_SECONDS, null, null, Map.of())
                    .path("metadata");
            String status = op.path("status").asText();
            switch (status) {
                case "Running", "Pending", "Started", "Created" -> {
                    if (Thread.currentThread().isInterrupted()) {
                        throw new RuntimeUnavailableException(action + ": interrupted while waiting for LXD");
                    }
                    continue; // the wait step expired: ask again
                }
                case "Success" -> {
                    return op;
                }
                default -> throw failure(action, op.path("status_code").asInt(500), op.path("err").asText(status));
            }
        }
    }

    /**
     * Writes a file inside an instance with the files API. The content type must be octet-stream: without it LXD
     * parses the body as a form and creates the file empty (while answering Success).
     */
    void pushFile(String instance, String path, byte[] content, int mode) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("X-LXD-type", "file");
        headers.put("X-LXD-uid", "0");
        headers.put("X-LXD-gid", "0");
        headers.put("X-LXD-mode", String.format("%04o", mode));
        headers.put("X-LXD-write", "overwrite");
        send("POST", "/1.0/instances/" + segment(instance) + "/files?path=" + query(path), content,
                ContentType.APPLICATION_OCTET_STREAM, headers);
    }

    /** Creates a directory inside an instance, owned by root. */
    void pushDirectory(String instance, String path, int mode) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("X-LXD-type", "directory");
        headers.put("X-LXD-uid", "0");
        headers.put("X-LXD-gid", "0");
        headers.put("X-LXD-mode", String.format("%04o", mode));
        send("POST", "/1.0/instances/" + segment(instance) + "/files?path=" + query(path), new byte[0],
                ContentType.APPLICATION_OCTET_STREAM, headers);
    }

    /** Whether a path exists inside an instance (file, directory or link). */
    boolean fileExists(String instance, String path) {
        try {
            fetch("/1.0/instances/" + segment(instance) + "/files?path=" + query(path));
            return true;
        } catch (RuntimeNotFoundException e) {
            return false;
        }
    }

    /** What a command run by {@link #run} produced. */
    record CommandResult(int exitCode, String stdout, String stderr) {
    }

    /**
     * Runs a short command in a running instance to its end, with LXD's recorded output (no websockets; the
     * platform's interactive exec is another matter). The recorded logs are deleted afterwards.
     */
    CommandResult run(String instance, java.util.List<String> command) {
        JsonNode op = call("POST", "/1.0/instances/" + segment(instance) + "/exec", Map.of("command", command,
                "wait-for-websocket", false, "record-output", true, "interactive", false));
        JsonNode output = op.path("metadata").path("output");
        String[] streams = new String[2];
        for (int fd = 1; fd <= 2; fd++) {
            String log = output.path(Integer.toString(fd)).asText("");
            if (log.isEmpty()) {
                streams[fd - 1] = "";
                continue;
            }
            streams[fd - 1] = new String(fetch(log), StandardCharsets.UTF_8);
            try {
                call("DELETE", log, null);
            } catch (RuntimeFailure e) {
                // the logs go with the instance anyway
            }
        }
        return new CommandResult(op.path("metadata").path("return").asInt(-1), streams[0], streams[1]);
    }

    /**
     * Runs a command in a running instance to its end without keeping its output (two requests instead of
     * {@link #run}'s six); its exit status.
     */
    int runQuietly(String instance, java.util.List<String> command) {
        JsonNode op = call("POST", "/1.0/instances/" + segment(instance) + "/exec", Map.of("command", command,
                "wait-for-websocket", false, "record-output", false, "interactive", false));
        return op.path("metadata").path("return").asInt(-1);
    }

    /** Deletes a file or an empty directory inside an instance; a missing one is no error. */
    void deleteFile(String instance, String path) {
        try {
            send("DELETE", "/1.0/instances/" + segment(instance) + "/files?path=" + query(path), null, null, Map.of());
        } catch (RuntimeNotFoundException gone) {
            // nothing to delete
        }
    }

    /** The owner and mode of a path inside an instance, as the files API tells them ("0700 0 0"). */
    String fileOwnerAndMode(String instance, String path) {
        return getRaw("/1.0/instances/" + segment(instance) + "/files?path=" + query(path), (response, body) -> {
            StringBuilder text = new StringBuilder();
            for (String header : List.of("X-LXD-mode", "X-LXD-uid", "X-LXD-gid")) {
                if (text.length() > 0) text.append(' ');
                text.append(response.getFirstHeader(header) == null ? "" : response.getFirstHeader(header).getValue());
            }
            return text.toString();
        });
    }

    /** A non-JSON resource (a file, a log), as bytes; errors as for JSON calls. */
    byte[] fetch(String path) {
        return getRaw(path, (response, body) -> body);
    }

    /** A GET whose answer is not one of LXD's envelopes when it succeeds (errors still are). */
    private <T> T getRaw(String path, java.util.function.BiFunction<ClassicHttpResponse, byte[], T> answer) {
        HttpUriRequestBase request = new HttpUriRequestBase("GET", java.net.URI.create(base + path));
        try {
            return http.execute(request, response -> {
                byte[] body = response.getEntity() == null ? new byte[0] : EntityUtils.toByteArray(response.getEntity());
                if (response.getCode() >= 300) {
                    JsonNode error = parse(body);
                    throw failure("GET " + path, error.path("error_code").asInt(response.getCode()),
                            error.path("error").asText(response.getReasonPhrase()));
                }
                return answer.apply(response, body);
            });
        } catch (IOException e) {
            throw unreachable("GET " + path, e);
        }
    }

    private JsonNode send(String method, String path, byte[] content, ContentType type, Map<String, String> headers) {
        HttpUriRequestBase request = new HttpUriRequestBase(method, java.net.URI.create(base + path));
        headers.forEach(request::setHeader);
        if (content != null) request.setEntity(new ByteArrayEntity(content, type));
        String action = method + " " + path;
        try {
            return http.execute(request, response -> {
                byte[] body = response.getEntity() == null ? new byte[0] : EntityUtils.toByteArray(response.getEntity());
                JsonNode envelope = parse(body);
                if ("error".equals(envelope.path("type").asText()) || response.getCode() >= 300) {
                    throw failure(action, envelope.path("error_code").asInt(response.getCode()),
                            envelope.path("error").asText(response.getReasonPhrase()));
                }
                return envelope;
            });
        } catch (IOException e) {
            throw unreachable(action, e);
        }
    }

    private JsonNode parse(byte[] body) {
        if (body.length == 0) return NullNode.getInstance();
        try {
            return json.readTree(body);
        } catch (IOException e) {
            return NullNode.getInstance(); // not JSON: the status code decides
        }
    }

    /**
     * LXD's status codes to the SPI: 404 is not found; 502/503/504 mean LXD (or what it waits for) is busy or
     * away, worth a retry; every other error (400 bad request, 403, 409 conflict, and the 500s LXD answers for
     * failures that repeat, e.g. an unsupported architecture) is a rejection.
     */
    static RuntimeFailure failure(String action, int code, String lxdMessage) {
        String message = action + ": " + lxdMessage;
        if (code == 404) return new RuntimeNotFoundException(message);
        if (code == 502 || code == 503 || code == 504) return new RuntimeUnavailableException(message);
        return new RuntimeRejectedException(message + " (LXD " + code + ")");
    }

    private RuntimeUnavailableException unreachable(String action, IOException e) {
        if (e.getCause() instanceof RuntimeFailure) throw (RuntimeFailure) e.getCause();
        return new RuntimeUnavailableException(action + ": LXD cannot be reached at " + where() + ": " + e, e);
    }

    /** Whether a failure's LXD text contains {@code text} (LXD has no error codes beyond the HTTP status). */
    static boolean lxdError(RuntimeException failure, String text) {
        return failure.getMessage() != null && failure.getMessage().contains(text);
    }

    /** A path segment (instance, volume or alias name): percent-encoded, '/' included. */
    static String segment(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String query(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        try {
            http.close();
        } catch (IOException e) {
            // nothing left to release
        }
    }
}
