package com.ecloud.compute.runtime.docker.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import com.ecloud.compute.api.model.Arch;

/**
 * Which arches a Docker host runs: its native one (from the daemon's info) and those a binfmt_misc qemu
 * handler emulates. The handler needs the F flag (interpreter opened at registration), or it cannot run
 * inside containers, whose file systems lack the interpreter.
 */
final class ArchDetection {

    static final Path BINFMT_MISC = Path.of("/proc/sys/fs/binfmt_misc");

    private ArchDetection() {
    }

    /**
     * @param daemonArchitecture the daemon's {@code Architecture} ("x86_64", "aarch64")
     * @param binfmtDir          binfmt_misc of the engine's kernel; null when that kernel is not this one's
     */
    static Set<Arch> detect(String daemonArchitecture, Path binfmtDir) {
        Set<Arch> arches = EnumSet.noneOf(Arch.class);
        Arch.parse(daemonArchitecture).ifPresent(arches::add);
        if (binfmtDir == null) return arches;
        for (Arch arch : Arch.values()) {
            if (!arches.contains(arch) && emulated(binfmtDir.resolve("qemu-" + kernelName(arch)))) {
                arches.add(arch);
            }
        }
        return arches;
    }

    /** The kernel's (uname -m) name of an arch, as binfmt handlers are named. */
    static String kernelName(Arch arch) {
        return switch (arch) {
            case AMD64 -> "x86_64";
            case ARM64 -> "aarch64";
        };
    }

    private static boolean emulated(Path handler) {
        try {
            List<String> lines = Files.readAllLines(handler, StandardCharsets.UTF_8);
            boolean enabled = !lines.isEmpty() && lines.get(0).trim().equals("enabled");
            boolean fixBinary = lines.stream().anyMatch(l -> l.startsWith("flags:") && l.substring(6).contains("F"));
            return enabled && fixBinary;
        } catch (IOException e) {
            return false; // no such handler
        }
    }
}
