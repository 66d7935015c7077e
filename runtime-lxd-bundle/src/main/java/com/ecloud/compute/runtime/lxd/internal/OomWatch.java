package com.ecloud.compute.runtime.lxd.internal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * OOM kills in the local LXD's instances, which LXD 5.0's event stream does not report: the kernel counts them in
 * each instance's memory cgroup ({@code oom_kill} of {@code memory.oom_control} on cgroup v1,
 * {@code memory.events} on v2), and this reads the counters of the platform's instances once a second. Only for
 * the local daemon (a remote host's cgroups are out of reach).
 *
 * <p>Instances present at the first look are counted from their current value; instances that appear later from
 * zero, so that an OOM right after a start is not lost.
 */
final class OomWatch {

    private static final String PAYLOAD = "lxc.payload.";

    private final List<Path> cgroupRoots;
    private final String prefix;
    private final BiConsumer<String, Long> onOom;
    private final Map<String, Long> seen = new HashMap<>();
    private boolean first = true;

    /**
     * @param cgroupRoots where instances' memory cgroups live: /sys/fs/cgroup/memory (v1) and /sys/fs/cgroup (v2)
     * @param prefix      instance names of the platform start with this
     * @param onOom       called with the instance name and its new count
     */
    OomWatch(List<Path> cgroupRoots, String prefix, BiConsumer<String, Long> onOom) {
        this.cgroupRoots = cgroupRoots;
        this.prefix = prefix;
        this.onOom = onOom;
    }

    /** One look at every counter. */
    synchronized void check() {
        Map<String, Long> now = new HashMap<>();
        for (Path root : cgroupRoots) {
            if (!Files.isDirectory(root)) continue;
            try (DirectoryStream<Path> groups = Files.newDirectoryStream(root, PAYLOAD + prefix + "*")) {
                for (Path group : groups) {
                    String instance = group.getFileName().toString().substring(PAYLOAD.length());
                    Long kills = oomKills(group);
                    if (kills != null) now.merge(instance, kills, Math::max);
                }
            } catch (IOException e) {
                // cgroups come and go with instances: the next look sees them
            }
        }
        for (Map.Entry<String, Long> counter : now.entrySet()) {
            long before = seen.getOrDefault(counter.getKey(), first ? counter.getValue() : 0L);
            if (counter.getValue() > before) onOom.accept(counter.getKey(), counter.getValue());
        }
        seen.clear();
        seen.putAll(now);
        first = false;
    }

    /** The oom_kill count of one cgroup directory, or null when it has none. */
    static Long oomKills(Path group) {
        for (String file : List.of("memory.oom_control", "memory.events")) {
            Path counters = group.resolve(file);
            if (!Files.isReadable(counters)) continue;
            try {
                for (String line : Files.readAllLines(counters)) {
                    if (line.startsWith("oom_kill ")) return Long.parseLong(line.substring("oom_kill ".length()).trim());
                }
            } catch (IOException | NumberFormatException e) {
                return null;
            }
        }
        return null;
    }
}
