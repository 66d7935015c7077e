package com.ecloud.compute.itest.harness;

import org.junit.jupiter.api.Assumptions;

/**
 * These tests need a Docker engine. Without one they are skipped, except when ECLOUD_REQUIRE_ENGINES=true
 * (CI), where a missing engine is a failure: skipped is not passed.
 */
public final class Engines {

    private Engines() {
    }

    public static boolean required() {
        return "true".equalsIgnoreCase(System.getenv("ECLOUD_REQUIRE_ENGINES"));
    }

    public static void requireDocker() {
        if (Docker.answers()) return;
        String why = "no Docker engine answers (docker info failed); run scripts/host-services.sh";
        if (required()) throw new AssertionError(why + " [ECLOUD_REQUIRE_ENGINES=true]");
        Assumptions.abort(why);
    }

    /** An engine image the platform needs (built by scripts/build-images.sh, never pulled). */
    public static void requireImage(String image) {
        if (Docker.run("image", "inspect", "--format", "{{.Id}}", image).ok()) return;
        String why = "engine image " + image + " is missing; run scripts/build-images.sh";
        if (required()) throw new AssertionError(why + " [ECLOUD_REQUIRE_ENGINES=true]");
        Assumptions.abort(why);
    }
}
