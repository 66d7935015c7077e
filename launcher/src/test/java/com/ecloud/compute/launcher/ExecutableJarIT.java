package com.ecloud.compute.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.ecloud.compute.auth.SigningKeys;

/** The packaged jar as users run it: target/ecloud-compute.jar, started as a process. */
class ExecutableJarIT {

    private static final Path JAR = Path.of(System.getProperty("ecloud.jar", "target/ecloud-compute.jar"));
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    Path data;

    @Test
    void tokenWorksFromTheJarAlone() throws Exception {
        Process token = start(List.of("token", "alice", "compute.alice.keys:read", "--ttl", "5m", "--data", data.toString()));
        assertTrue(token.waitFor(30, TimeUnit.SECONDS));
        String out = new String(token.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, token.exitValue(), new String(token.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        assertEquals(1, out.lines().count());
        assertEquals("alice", SigningKeys.openOrCreate(data).verifier().verify(out.strip()).uid());
        Path keyFile = data.resolve("secrets/token-signing.jwks");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)));

        Process bad = start(List.of("token", "Not-A-Uid", "--data", data.toString()));
        assertTrue(bad.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, bad.exitValue());
        assertEquals(0, bad.getInputStream().readAllBytes().length);
    }

    @Test
    void serveStartsEveryBundleAndKeepsRunningWithoutStdin() throws Exception {
        int port = freePort();
        Path log = data.resolve("serve.log");
        List<String> command = command(List.of("serve", "--data", data.toString(), "--port", Integer.toString(port)));
        // an operator's file, as written: serve must never write it back (FileInstall did, on every start)
        Path operatorsFile = data.resolve("etc/com.ecloud.compute.websocket.cfg");
        Files.createDirectories(operatorsFile.getParent());
        String operatorsText = "# origins of our web console\nallowed.origins=https://console.example\n";
        Files.writeString(operatorsFile, operatorsText);
        java.nio.file.attribute.FileTime written = java.nio.file.attribute.FileTime.from(java.time.Instant.parse("2026-01-01T00:00:00Z"));
        Files.setLastModifiedTime(operatorsFile, written);
        Process serve = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            int status = -1;
            while (status < 0) {
                if (!serve.isAlive()) fail("serve exited with " + serve.exitValue() + ":\n" + Files.readString(log));
                if (System.nanoTime() > deadline) fail("no HTTP answer on port " + port + ":\n" + Files.readString(log));
                try {
                    status = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode();
                } catch (IOException notYet) {
                    Thread.sleep(200);
                }
            }
            assertTrue(Files.isRegularFile(data.resolve("etc/JakartarsServletWhiteboardRuntimeComponent.cfg")));
            assertTrue(Files.isRegularFile(data.resolve("etc/com.ecloud.compute.runtime.docker-local.cfg")));

            // a token minted while serve runs
            Process token = start(List.of("token", "bob", "--data", data.toString()));
            assertTrue(token.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, token.exitValue());

            // stdin is at its end: a non-interactive Gogo neither exits nor stops the framework
            Thread.sleep(3000);
            assertTrue(serve.isAlive(), "serve must keep running after stdin closed:\n" + Files.readString(log));
            assertEquals(operatorsText, Files.readString(operatorsFile), "the operator's file was rewritten");
            assertEquals(written, Files.getLastModifiedTime(operatorsFile), "the operator's file was written to");
            List<String> problems = new ArrayList<>();
            for (String line : Files.readAllLines(log)) {
                if (line.contains("Failed to start bundle") || line.contains("could not resolve")
                        || line.contains("Unresolved") || line.contains("gosh: stopping")) {
                    problems.add(line);
                }
            }
            assertEquals(List.of(), problems);
            // SIGTERM stops the framework (bundles stop, Jetty closes) before the JVM exits
            serve.destroy();
            assertTrue(serve.waitFor(40, TimeUnit.SECONDS), "serve must exit on SIGTERM");
            assertTrue(Files.readString(log).contains("Stopped Jetty"), "the framework was not stopped:\n" + Files.readString(log));
        } finally {
            if (serve.isAlive()) serve.destroyForcibly();
        }
        assertFalse(serve.isAlive());
    }

    @Test
    void serveRefusesAPortInUse() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Process serve = start(List.of("serve", "--data", data.toString(), "--port", Integer.toString(taken.getLocalPort())));
            assertTrue(serve.waitFor(30, TimeUnit.SECONDS));
            assertEquals(1, serve.exitValue());
            String err = new String(serve.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(err.contains("cannot listen on 127.0.0.1:" + taken.getLocalPort()), err);
        }
    }

    private static Process start(List<String> args) throws IOException {
        return new ProcessBuilder(command(args)).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
    }

    private static List<String> command(List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-jar");
        command.add(JAR.toAbsolutePath().toString());
        command.addAll(args);
        return command;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
