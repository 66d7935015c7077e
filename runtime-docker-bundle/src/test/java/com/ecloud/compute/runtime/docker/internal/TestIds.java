package com.ecloud.compute.runtime.docker.internal;

import java.util.concurrent.ThreadLocalRandom;

/** Fresh platform-style container ids for the Docker-specific tests. */
final class TestIds {

    private TestIds() {
    }

    static String next() {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder id = new StringBuilder("d");
        for (int i = 1; i < 8; i++) id.append(alphabet.charAt(ThreadLocalRandom.current().nextInt(alphabet.length())));
        return id.toString();
    }
}
