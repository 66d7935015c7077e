package com.ecloud.compute.itest.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Real OpenSSH key pairs made with ssh-keygen; the public line is what users paste into the API. */
public final class SshKeys {

    private SshKeys() {
    }

    /** @param type ed25519, rsa or ecdsa; {@code bits} 0 for the type's default */
    public static String generate(String type, int bits, String comment) {
        try {
            Path dir = Files.createTempDirectory("ecloud-it-key-");
            try {
                Path key = dir.resolve("id");
                List<String> cmd = new ArrayList<>(List.of("ssh-keygen", "-q", "-t", type, "-N", "", "-C", comment, "-f", key.toString()));
                if (bits > 0) cmd.addAll(List.of("-b", Integer.toString(bits)));
                Command.run(Duration.ofSeconds(60), cmd).orFail();
                return Files.readString(dir.resolve("id.pub")).strip();
            } finally {
                Files.deleteIfExists(dir.resolve("id"));
                Files.deleteIfExists(dir.resolve("id.pub"));
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String ed25519(String comment) {
        return generate("ed25519", 0, comment);
    }
}
