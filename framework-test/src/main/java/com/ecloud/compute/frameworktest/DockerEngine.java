package com.ecloud.compute.frameworktest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.Assumptions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * What the local Docker engine really has, asked over its unix socket with plain HTTP/1.0 (the JDK's own unix
 * domain sockets): independent of the platform's Docker client, which is the thing being swapped.
 */
final class DockerEngine {

    static final Path SOCKET = Path.of("/var/run/docker.sock");
    /** The daemon here may be older than any client (Debian's 20.10): speak its API version. */
    private static final String API = "/v1.41";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One request at a time on its own thread, so that a stuck engine times out instead of hanging the test. */
    private final ExecutorService caller = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "framework-test-docker-socket");
        t.setDaemon(true);
        return t;
    });

    record Reply(int status, String body) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("the engine answered " + status + " with no JSON: " + body, e);
            }
        }
    }

    /**
     * Skips the calling test when no engine answers, or fails it when ECLOUD_REQUIRE_ENGINES=true (CI, set by
     * scripts/test.sh): there a skipped test would pass for a test that never ran.
     */
    void requireAnswering() {
        String why = null;
        if (!Files.exists(SOCKET)) {
            why = "no Docker engine socket at " + SOCKET;
        } else {
            try {
                Reply ping = request("GET", "/_ping");
                if (ping.status() != 200) why = "the Docker engine answered /_ping with " + ping.status() + ": " + ping.body();
            } catch (RuntimeException e) {
                why = "the Docker engine does not answer on " + SOCKET + ": " + e.getMessage();
            }
        }
        if (why != null) unavailable(why + " (start dockerd: scripts/host-services.sh)");
    }

    /** The same for an engine image the test runs (built by scripts/build-images.sh, never pulled). */
    void requireImage(String engineImage) {
        Reply r = request("GET", "/images/" + engineImage + "/json");
        if (r.status() != 200) unavailable("engine image " + engineImage + " is missing (" + r.status() + "): run scripts/build-images.sh");
    }

    private static void unavailable(String why) {
        if ("true".equalsIgnoreCase(System.getenv("ECLOUD_REQUIRE_ENGINES"))) {
            throw new AssertionError(why + " [ECLOUD_REQUIRE_ENGINES=true]");
        }
        Assumptions.abort(why);
    }

    /** {@code docker inspect} of a container; empty when the engine has no container of that name. */
    Optional<JsonNode> inspect(String containerName) {
        Reply r = request("GET", "/containers/" + encode(containerName) + "/json");
        if (r.status() == 404) return Optional.empty();
        if (r.status() != 200) throw new AssertionError("inspect of " + containerName + ": " + r.status() + " " + r.body());
        return Optional.of(r.json());
    }

    /** Force-removes a container with its anonymous volumes; true when it was there. */
    boolean forceRemove(String containerName) {
        Reply r = request("DELETE", "/containers/" + encode(containerName) + "?force=true&v=true");
        if (r.status() == 404) return false;
        if (r.status() / 100 != 2) throw new AssertionError("removal of " + containerName + ": " + r.status() + " " + r.body());
        return true;
    }

    private static String encode(String pathSegment) {
        return URLEncoder.encode(pathSegment, StandardCharsets.UTF_8);
    }

    Reply request(String method, String path) {
        Future<Reply> reply = caller.submit(() -> exchange(method, API + path));
        try {
            return reply.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            reply.cancel(true);
            throw new AssertionError("the Docker engine did not answer " + method + " " + path + " within " + TIMEOUT.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while asking the Docker engine", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) throw new UncheckedIOException(io.getMessage(), io);
            throw new AssertionError("asking the Docker engine failed", cause);
        }
    }

    /**
     * HTTP/1.0 without keep-alive: the engine closes the connection after its answer and sends no chunked
     * encoding, so the answer is everything up to the end of the stream.
     */
    private static Reply exchange(String method, String target) throws IOException {
        try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(SOCKET))) {
            String head = method + " " + target + " HTTP/1.0\r\nHost: docker\r\n\r\n";
            ByteBuffer out = ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII));
            while (out.hasRemaining()) channel.write(out);
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            ByteBuffer in = ByteBuffer.allocate(16 * 1024);
            while (channel.read(in) >= 0) {
                in.flip();
                all.write(in.array(), 0, in.limit());
                in.clear();
            }
            String text = all.toString(StandardCharsets.UTF_8);
            int endOfHead = text.indexOf("\r\n\r\n");
            String statusLine = text.lines().findFirst().orElse("");
            String[] parts = statusLine.split(" ", 3);
            if (endOfHead < 0 || parts.length < 2 || !parts[0].startsWith("HTTP/")) {
                throw new IOException("not an HTTP answer from the engine: " + statusLine);
            }
            return new Reply(Integer.parseInt(parts[1]), text.substring(endOfHead + 4));
        }
    }

    void close() {
        caller.shutdownNow();
    }
}
