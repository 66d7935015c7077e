package com.ecloud.compute.core.internal.operator;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import com.ecloud.compute.api.model.Container;
import com.ecloud.compute.api.model.ContainerStatus;
import com.ecloud.compute.api.runtime.Fingerprint;
import com.ecloud.compute.auth.Grant;
import com.ecloud.compute.auth.Scopes;
import com.ecloud.compute.auth.TokenIssuer;
import com.ecloud.compute.core.internal.lifecycle.ContainerLifecycle;

/**
 * The operators' commands in Gogo's {@code compute} scope: containers of every user, runtime hosts, draining,
 * the reconciler and tokens. They act through the same lifecycle as the API (same locks, same events); an
 * operator is not a user, so owner checks do not apply. Every command returns text, one line per item.
 */
@Component(service = ComputeCommands.class, property = {
        "osgi.command.scope=compute",
        "osgi.command.function=containers", "osgi.command.function=container",
        "osgi.command.function=start", "osgi.command.function=stop", "osgi.command.function=delete",
        "osgi.command.function=hosts", "osgi.command.function=drain", "osgi.command.function=undrain",
        "osgi.command.function=reconcile", "osgi.command.function=token" })
public class ComputeCommands {

    private static final Pattern TTL = Pattern.compile("([0-9]{1,6})([smhd])");

    private final ContainerLifecycle lifecycle;
    private final TokenIssuer tokens;

    @Activate
    public ComputeCommands(@Reference ContainerLifecycle lifecycle, @Reference TokenIssuer tokens) {
        this.lifecycle = lifecycle;
        this.tokens = tokens;
    }

    @Descriptor("list containers of every user")
    public String containers(
            @Descriptor("only this user's") @Parameter(names = { "-u", "--user" }, absentValue = "") String user,
            @Descriptor("only in this status (pending, initializing, running, stopped, failed)")
            @Parameter(names = { "-s", "--status" }, absentValue = "") String status,
            @Descriptor("only on this runtime host") @Parameter(names = { "-h", "--host" }, absentValue = "") String host) {
        ContainerStatus wanted = status.isEmpty() ? null : parseStatus(status);
        List<Container> shown = lifecycle.listAll().stream()
                .filter(c -> user.isEmpty() || c.ownerId().equals(user))
                .filter(c -> wanted == null || c.status() == wanted)
                .filter(c -> host.isEmpty() || host.equals(c.runtimeHost()))
                .sorted(Comparator.comparing(Container::ownerId).thenComparing(Container::createdAt))
                .toList();
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] { "ID", "USER", "NAME", "STATUS", "HOST", "TYPE", "MEMORY", "IMAGE" });
        for (Container c : shown) {
            rows.add(new String[] { c.id(), c.ownerId(), c.name(), c.status().id(), orDash(c.runtimeHost()),
                    c.instanceType().id(), c.memoryMb() + " MB", c.image() });
        }
        return table(rows) + shown.size() + " container" + (shown.size() == 1 ? "" : "s");
    }

    @Descriptor("show one container")
    public String container(@Descriptor("container id") String id) {
        Container c = require(id);
        StringBuilder out = new StringBuilder();
        line(out, "id", c.id());
        line(out, "user", c.ownerId());
        line(out, "name", c.name());
        line(out, "status", c.status().id());
        if (c.statusReason() != null) line(out, "status reason", c.statusReason());
        line(out, "host", orDash(c.runtimeHost()));
        line(out, "instance type", c.instanceType().id() + " (" + c.instanceType().arch().id() + ")");
        line(out, "memory", c.memoryMb() + " MB");
        line(out, "storage", c.storageGb() + " GB");
        line(out, "image", c.image());
        line(out, "mount paths", String.join(" ", c.mountPaths()));
        line(out, "ssh enabled", String.valueOf(c.sshEnabled()));
        line(out, "https enabled", String.valueOf(c.httpsEnabled()));
        line(out, "ssh key ids", c.sshKeyIds().stream().map(String::valueOf).collect(Collectors.joining(" ")));
        line(out, "created", c.createdAt().toString());
        lifecycle.usage(c.id()).ifPresent(u -> line(out, "usage",
                (u.memoryUsedBytes() >> 20) + " MB memory, " + (u.diskUsedBytes() >> 20) + " MB disk"));
        return out.toString().stripTrailing();
    }

    @Descriptor("start a container of any user")
    public String start(@Descriptor("container id") String id) {
        Container c = require(id);
        return describe(lifecycle.start(c.ownerId(), c.id()));
    }

    @Descriptor("stop a container of any user (waits for it)")
    public String stop(@Descriptor("container id") String id) {
        Container c = require(id);
        return describe(lifecycle.stop(c.ownerId(), c.id()));
    }

    @Descriptor("delete a container of any user, with its storage")
    public String delete(@Descriptor("container id") String id) {
        Container c = require(id);
        lifecycle.delete(c.ownerId(), c.id());
        return "deleted " + c.id() + " (" + c.ownerId() + "/" + c.name() + ")";
    }

    @Descriptor("list runtime hosts: type, arches, health, capacity and what is placed on them")
    public String hosts() {
        Map<String, List<Container>> placed = lifecycle.listAll().stream().filter(c -> c.runtimeHost() != null)
                .collect(Collectors.groupingBy(Container::runtimeHost));
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] { "HOST", "TYPE", "ARCHES", "HEALTH", "CPUS", "CPU RESERVED", "MEMORY", "RESERVED", "CONTAINERS", "SCHEDULING" });
        List<Fingerprint> hosts = new ArrayList<>(lifecycle.hosts());
        hosts.sort(Comparator.comparing(Fingerprint::host));
        for (Fingerprint f : hosts) {
            List<Container> on = placed.getOrDefault(f.host(), List.of());
            List<Container> holding = on.stream()
                    .filter(c -> c.status() != ContainerStatus.STOPPED && c.status() != ContainerStatus.FAILED).toList();
            long reserved = holding.stream().mapToLong(Container::memoryMb).sum();
            long cpuReserved = holding.stream().mapToLong(c -> c.instanceType().cpuMillis()).sum();
            String health = f.health().name().toLowerCase(Locale.ROOT) + (f.reason() == null || f.reason().isEmpty() ? "" : " (" + f.reason() + ")");
            rows.add(new String[] { f.host(), f.type(),
                    f.arches().stream().map(a -> a.id()).sorted().collect(Collectors.joining(",")), health,
                    String.valueOf(f.cpus()), String.format(Locale.ROOT, "%.1f", cpuReserved / 1000.0),
                    f.memoryMb() + " MB", reserved + " MB", String.valueOf(on.size()),
                    lifecycle.isDrained(f.host()) ? "drained" : "open" });
        }
        return table(rows) + hosts.size() + " host" + (hosts.size() == 1 ? "" : "s");
    }

    @Descriptor("drain a runtime host: no new containers are placed on it; those on it keep running")
    public String drain(@Descriptor("host name") String host) {
        boolean changed = lifecycle.setDrained(host, true);
        return host + (changed ? " drained" : " was already drained");
    }

    @Descriptor("make a drained runtime host take new containers again")
    public String undrain(@Descriptor("host name") String host) {
        boolean changed = lifecycle.setDrained(host, false);
        return host + (changed ? " takes new containers again" : " was not drained");
    }

    @Descriptor("run the reconciler now (in the background): resumes provisioning, converges statuses, removes orphans")
    public String reconcile() {
        lifecycle.reconcileAllSoon();
        return "reconciliation started";
    }

    @Descriptor("mint a token; no scope given: the user's full scope")
    public String token(
            @Descriptor("lifetime: a number with s, m, h or d") @Parameter(names = { "-t", "--ttl" }, absentValue = "24h") String ttl,
            @Descriptor("user id") String uid,
            @Descriptor("scopes, RESOURCE:ACTION[,ACTION]") String... scopes) {
        List<Grant> grants = new ArrayList<>();
        for (String s : scopes) grants.add(Scopes.parseGrant(s));
        return tokens.issue(uid, grants, parseTtl(ttl));
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private Container require(String id) {
        return lifecycle.find(id).orElseThrow(() -> new IllegalArgumentException("no such container: " + id));
    }

    private static String describe(Container c) {
        return c.id() + " " + c.status().id() + (c.statusReason() == null ? "" : " (" + c.statusReason() + ")");
    }

    private static ContainerStatus parseStatus(String text) {
        for (ContainerStatus s : ContainerStatus.values()) {
            if (s.id().equals(text.toLowerCase(Locale.ROOT))) return s;
        }
        throw new IllegalArgumentException("unknown status " + text + ": pending, initializing, running, stopped or failed");
    }

    static Duration parseTtl(String text) {
        Matcher m = TTL.matcher(text);
        if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
            throw new IllegalArgumentException("ttl must be a positive number with s, m, h or d, e.g. 90m or 24h");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    private static String orDash(String s) {
        return s == null ? "-" : s;
    }

    private static void line(StringBuilder out, String label, String value) {
        out.append(String.format("%-14s %s%n", label, value));
    }

    /** Columns padded to their widest cell, then a newline. */
    static String table(List<String[]> rows) {
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) widths[i] = Math.max(widths[i], row[i].length());
        }
        StringBuilder out = new StringBuilder();
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(row[i]);
                if (i < row.length - 1) line.append(" ".repeat(widths[i] - row[i].length() + 2));
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
        return out.toString();
    }
}
