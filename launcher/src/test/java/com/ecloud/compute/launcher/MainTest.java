package com.ecloud.compute.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.ecloud.compute.auth.Principal;
import com.ecloud.compute.auth.SigningKeys;

class MainTest {

    @TempDir
    Path data;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final Main main = new Main(new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));

    @Test
    void tokenPrintsOneVerifiableTokenAndNothingElse() throws Exception {
        int status = main.run(new String[] {"token", "alice", "--data", data.toString()});

        assertEquals(Main.OK, status, err.toString());
        String printed = out.toString(StandardCharsets.UTF_8);
        assertTrue(printed.endsWith("\n"));
        String token = printed.strip();
        assertEquals(1, printed.lines().count());
        Principal principal = SigningKeys.openOrCreate(data).verifier().verify(token);
        assertEquals("alice", principal.uid());
        assertTrue(principal.permits("compute.alice.containers.abc12345", "delete"));
        assertTrue(principal.expiresAt().isAfter(java.time.Instant.now().plus(Duration.ofHours(23))));
    }

    @Test
    void tokenCarriesTheGrantsAndTtlAsked() throws Exception {
        int status = main.run(new String[] {"token", "--ttl=90m", "bob", "compute.bob.keys:read",
                "compute.alice:read,delete", "--data", data.toString()});

        assertEquals(Main.OK, status, err.toString());
        Principal principal = SigningKeys.openOrCreate(data).verifier().verify(out.toString().strip());
        assertEquals("bob", principal.uid());
        assertTrue(principal.permits("compute.bob.keys.k1", "read"));
        assertTrue(principal.permits("compute.alice.containers.abc12345", "delete"));
        assertTrue(!principal.permits("compute.bob", "read"));
        assertTrue(principal.expiresAt().isBefore(java.time.Instant.now().plus(Duration.ofMinutes(91))));
    }

    @Test
    void badUsageExitsWithTwoAndPrintsNothingOnStdout() {
        for (List<String> args : List.of(List.of("token"), List.of("token", "Alice"), List.of("token", "alice", "oops"),
                List.of("token", "alice", "compute.alice:write"), List.of("token", "alice", "--ttl", "0s"),
                List.of("token", "alice", "--ttl", "3w"), List.of("token", "alice", "--ttl"),
                List.of("token", "alice", "--ttl", "--data", "x"), List.of("token", "alice", "--nope", "1"),
                List.of("token", "alice", "--ttl", "100000d"), List.of("frobnicate"),
                List.of("serve", "--port", "0"), List.of("serve", "--port", "http"), List.of("serve", "extra"),
                List.of("--port", "99999"))) {
            out.reset();
            err.reset();
            int status = main.run(args.toArray(String[]::new));
            assertEquals(Main.BAD_USAGE, status, args.toString());
            assertEquals(0, out.size(), args.toString());
            assertTrue(err.toString().startsWith("ecloud-compute: "), args + ": " + err);
        }
        assertTrue(!Files.exists(data.resolve("secrets")), "refused commands touch nothing");
    }

    @Test
    void helpGoesToStdout() {
        assertEquals(Main.OK, main.run(new String[] {"--help"}));
        assertTrue(out.toString().contains("token <uid>"));
    }

    @Test
    void parsesTtls() throws Exception {
        assertEquals(Duration.ofSeconds(45), Main.parseTtl("45s"));
        assertEquals(Duration.ofMinutes(90), Main.parseTtl("90m"));
        assertEquals(Duration.ofHours(24), Main.parseTtl("24h"));
        assertEquals(Duration.ofDays(7), Main.parseTtl("7d"));
        for (String bad : List.of("", "h", "1", "0d", "-1h", "1.5h", "1H", "24 h", "1w")) {
            assertThrows(Main.UsageException.class, () -> Main.parseTtl(bad), bad);
        }
    }

    @Test
    void serveTurnsOptionsIntoFrameworkProperties() {
        Map<String, String> properties = Main.frameworkProperties(Path.of("/srv/data"), Path.of("/srv/etc"), "0.0.0.0", 8080,
                false);

        assertEquals("/srv/data", properties.get("ecloud.data"));
        assertEquals("/srv/data/cache", properties.get("org.osgi.framework.storage"));
        assertEquals("/srv/data/cache", properties.get("launch.storage.dir"));
        assertEquals("/srv/etc", properties.get("felix.fileinstall.dir"));
        assertEquals("false", properties.get("felix.fileinstall.enableConfigSave"), "FileInstall never rewrites the files");
        assertEquals("8080", properties.get("org.osgi.service.http.port"));
        assertEquals("0.0.0.0", properties.get("org.apache.felix.http.host"));
        assertEquals("--nointeractive", properties.get("gosh.args"));
        assertEquals("", Main.frameworkProperties(Path.of("/d"), Path.of("/e"), "127.0.0.1", 9080, true).get("gosh.args"));
    }

    @Test
    void writesDefaultConfigurationOnlyWhenMissing() throws Exception {
        Path etc = data.resolve("etc");
        Files.createDirectories(etc);
        Path whiteboard = etc.resolve("JakartarsServletWhiteboardRuntimeComponent.cfg");
        Files.writeString(whiteboard, "jersey.context.path=/api\n");

        Main.DefaultConfiguration.writeMissing(etc);

        assertEquals("jersey.context.path=/api\n", Files.readString(whiteboard), "an operator's file is kept");
        String docker = Files.readString(etc.resolve("com.ecloud.compute.runtime.docker-local.cfg"));
        assertTrue(docker.contains("host.name=local\n"));
        assertTrue(docker.contains("docker.host=unix:///var/run/docker.sock\n"));
        // one file per configured PID, so that no component starts on defaults the operator changed
        for (String pid : java.util.List.of("com.ecloud.compute.platform", "com.ecloud.compute.images",
                "com.ecloud.compute.store", "com.ecloud.compute.ssh", "com.ecloud.compute.ssh.operator",
                "com.ecloud.compute.websocket", "com.ecloud.compute.core.internal.ws.StatusStreamServlet",
                "com.ecloud.compute.core.internal.ws.streams.ContainerStreamsFilter")) {
            assertTrue(Files.readString(etc.resolve(pid + ".cfg")).startsWith("#"), pid + ": only a comment, every default");
        }
        try (var files = Files.list(etc)) {
            assertEquals(Main.DefaultConfiguration.FILES.size(), files.count(), "no temporary file is left behind");
        }
        Files.delete(whiteboard);
        Main.DefaultConfiguration.writeMissing(etc);
        assertTrue(Files.readString(whiteboard).contains("jersey.context.path=/\n"));
    }

    @Test
    void thePlatformIdIsMadeOnceAndKept(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path file = dir.resolve("state").resolve("platform-id");
        String id = Main.PlatformId.loadOrCreate(file);
        assertTrue(id.matches("[a-z0-9]{16}"), id);
        assertEquals(id, Main.PlatformId.loadOrCreate(file), "the same id on every start");
        assertEquals(id + "\n", Files.readString(file));
        Files.writeString(file, "not an id\n");
        assertThrows(java.io.IOException.class, () -> Main.PlatformId.loadOrCreate(file), "a damaged file is not replaced");
    }
}
