package com.ecloud.compute.api.model;

import java.util.Locale;
import java.util.Optional;

/** CPU architectures a container can run on, named as the Compute API and OCI images name them. */
public enum Arch {
    AMD64, ARM64;

    /** The lower-case name used in the API, in OCI image indexes and in runtime properties. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses "amd64"/"arm64", also accepting the kernel's "x86_64"/"aarch64" spelling. */
    public static Optional<Arch> parse(String text) {
        if (text == null) return Optional.empty();
        switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "amd64": case "x86_64": return Optional.of(AMD64);
            case "arm64": case "aarch64": return Optional.of(ARM64);
            default: return Optional.empty();
        }
    }
}
