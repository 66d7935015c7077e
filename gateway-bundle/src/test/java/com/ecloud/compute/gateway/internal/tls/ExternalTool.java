package com.ecloud.compute.gateway.internal.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a real command line tool (openssl, curl): the proof that other TLS stacks accept what we make. */
final class ExternalTool {

    record Result(int exitCode, String output) {
    }

    private ExternalTool() {
    }

    /** Runs the command in directory with stdin at end of file, stdout and stderr merged; at most 30 s. */
    static Result run(Path directory, String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(List.of(command))
                .directory(directory.toFile())
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        // Read before waiting: a full pipe would block the tool.
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), () -> String.join(" ", command) + " did not end");
        return new Result(process.exitValue(), output);
    }

    /** Runs the command and fails the test unless it exits with 0. */
    static String succeed(Path directory, String... command) throws IOException, InterruptedException {
        Result result = run(directory, command);
        assertEquals(0, result.exitCode(), () -> String.join(" ", command) + " failed:\n" + result.output());
        return result.output();
    }
}
