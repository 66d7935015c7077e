package com.ecloud.compute.itest.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The hosts file this JVM resolves names from ({@code jdk.net.hosts.file}, set by the itest POM): tests add the
 * names they serve on loopback, such as a container's {@code <id>.compute.localhost}.
 */
public final class TestHosts {

    private TestHosts() {
    }

    /** Makes {@code name} resolve to 127.0.0.1 in this JVM. */
    public static synchronized void addLoopback(String name) {
        String file = System.getProperty("jdk.net.hosts.file");
        if (file == null) throw new AssertionError("jdk.net.hosts.file is not set: run the ITs through Maven (itest/pom.xml)");
        try {
            Files.writeString(Path.of(file), "127.0.0.1 " + name + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
