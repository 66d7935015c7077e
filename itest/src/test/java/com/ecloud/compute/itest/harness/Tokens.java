package com.ecloud.compute.itest.harness;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Tokens minted by the jar's own {@code token} command, as a user would. */
public final class Tokens {

    private Tokens() {
    }

    /** {@code token <uid> [scopes...] --data DIR}: the full scope of the user when no scope is given. */
    public static String mint(Path dataDir, String uid, String... scopes) {
        return mintWithTtl(dataDir, uid, null, scopes);
    }

    public static String mintWithTtl(Path dataDir, String uid, String ttl, String... scopes) {
        List<String> cmd = new ArrayList<>(List.of(PlatformProcess.javaExecutable(), "-jar", PlatformProcess.jar().toString(),
                "token", uid));
        cmd.addAll(Arrays.asList(scopes));
        if (ttl != null) cmd.addAll(List.of("--ttl", ttl));
        cmd.addAll(List.of("--data", dataDir.toString()));
        Command.Result r = Command.run(Duration.ofSeconds(60), cmd);
        String out = r.orFail().strip();
        if (out.isEmpty() || out.contains("\n") || out.split("\\.").length != 3) {
            throw new AssertionError("token command did not print exactly one JWT: " + r.describe());
        }
        return out;
    }
}
