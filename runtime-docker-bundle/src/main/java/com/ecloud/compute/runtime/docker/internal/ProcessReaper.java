package com.ecloud.compute.runtime.docker.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends exec processes from the host, since the Docker API cannot: the exec's process (a session leader, as runc
 * starts every exec), all processes of its session (a shell's background jobs), and all its descendants (those
 * that started a session of their own). SIGHUP first, as a terminal hang-up would, then SIGKILL for what is left.
 *
 * <p>Only processes in the exec's own cgroup are touched, so a host process that happens to reuse a number is
 * never signalled. This works when the engine runs on this host (a unix socket); for a remote engine closing an
 * exec only closes its connection.
 */
final class ProcessReaper {

    private static final Logger LOG = LoggerFactory.getLogger(ProcessReaper.class);
    private static final Path PROC = Path.of("/proc");

    private final boolean enabled;
    /** The cgroup of each remembered exec process, read while it surely ran. */
    private final Map<Long, String> cgroups = new ConcurrentHashMap<>();

    ProcessReaper(boolean enabled) {
        this.enabled = enabled;
    }

    /** Remembers the cgroup of a just-started exec process. */
    void remember(long pid) {
        if (!enabled) return;
        String cgroup = cgroup(pid);
        if (cgroup != null) cgroups.put(pid, cgroup);
    }

    void forget(long pid) {
        cgroups.remove(pid);
    }

    /** Hangs up, then kills, the exec process {@code leader}, its session and its descendants. */
    void endProcessTree(long leader) {
        String cgroup = cgroups.get(leader);
        if (!enabled || cgroup == null) return;
        try {
            List<Long> targets = members(leader, cgroup);
            if (targets.isEmpty()) return;
            signal("HUP", targets);
            signal("CONT", targets); // a stopped job must run to act on the hang-up
            long deadline = System.nanoTime() + 1_000_000_000L;
            while (System.nanoTime() < deadline && !members(leader, cgroup).isEmpty()) {
                Thread.sleep(50);
            }
            List<Long> left = members(leader, cgroup);
            if (!left.isEmpty()) signal("KILL", left);
        } catch (IOException e) {
            LOG.warn("cannot end the processes of exec pid {}: {}", leader, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The leader, its session and its descendants, in the leader's cgroup. */
    private List<Long> members(long leader, String cgroup) throws IOException {
        Map<Long, Long> parents = new HashMap<>();
        Set<Long> found = new LinkedHashSet<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC, "[0-9]*")) {
            for (Path entry : entries) {
                long pid = Long.parseLong(entry.getFileName().toString());
                long[] stat = stat(pid);
                if (stat == null) continue;
                parents.put(pid, stat[0]);
                if (pid == leader || stat[1] == leader) found.add(pid);
            }
        }
        // descendants, including those that left the session (setsid)
        Deque<Long> queue = new ArrayDeque<>(found);
        queue.add(leader);
        while (!queue.isEmpty()) {
            long parent = queue.poll();
            parents.forEach((pid, ppid) -> {
                if (ppid == parent && found.add(pid)) queue.add(pid);
            });
        }
        List<Long> members = new ArrayList<>();
        for (long pid : found) {
            if (cgroup.equals(cgroup(pid))) members.add(pid);
        }
        return members;
    }

    /** {ppid, session} of a process, or null when it is gone. */
    private static long[] stat(long pid) {
        try {
            String stat = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"), StandardCharsets.UTF_8);
            // "pid (comm) state ppid pgrp session ...": comm may hold spaces and parentheses
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return new long[] {Long.parseLong(fields[1]), Long.parseLong(fields[3])};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String cgroup(long pid) {
        try {
            return Files.readString(PROC.resolve(Long.toString(pid)).resolve("cgroup"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        }
    }

    private static void signal(String signal, List<Long> pids) throws IOException {
        List<String> command = new ArrayList<>(List.of("kill", "-s", signal, "--"));
        pids.forEach(pid -> command.add(Long.toString(pid)));
        try {
            HostCommand.run(command, 10);
        } catch (IOException e) {
            // some of them ended meanwhile ("No such process"): the others were signalled
            LOG.debug("kill -{}: {}", signal, e.getMessage());
        }
    }
}
