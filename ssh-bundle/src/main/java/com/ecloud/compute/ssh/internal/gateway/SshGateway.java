package com.ecloud.compute.ssh.internal.gateway;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.sshd.common.channel.RequestHandler;
import org.apache.sshd.common.session.ConnectionService;
import org.apache.sshd.core.CoreModuleProperties;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.global.NoMoreSessionsHandler;
import org.apache.sshd.server.subsystem.SubsystemFactory;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.access.ContainerAccess;
import com.ecloud.compute.ssh.internal.common.Algorithms;
import com.ecloud.compute.ssh.internal.common.HostKeys;

/**
 * The SSH gateway into containers: {@code ssh <container id>@<host>} with one of the container's keys reaches a
 * shell, a command, sftp or a forwarded port of that container, through {@link ContainerAccess} only.
 */
@Component(configurationPid = SshGateway.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, service = {},
        immediate = true)
@Designate(ocd = SshGateway.Config.class)
public final class SshGateway implements AutoCloseable {

    public static final String PID = "com.ecloud.compute.ssh";

    /** Runs the image's sftp-server wherever the distribution put it. */
    static final List<String> SFTP_SERVER = List.of("/bin/sh", "-c",
            "for p in /usr/lib/openssh/sftp-server /usr/lib/sftp-server /usr/libexec/openssh/sftp-server "
                    + "/usr/libexec/sftp-server; do [ -x \"$p\" ] && exec \"$p\"; done; "
                    + "echo \"no sftp-server in this image\" >&2; exit 127");

    @ObjectClassDefinition(name = "ecloud SSH gateway", description = "SSH into containers: ssh <id>@<host>")
    public @interface Config {
        @AttributeDefinition(description = "Listening port (22 in production)")
        int port() default 2222;

        @AttributeDefinition(description = "Address to listen on")
        String bind_address() default "127.0.0.1";

        @AttributeDefinition(description = "Host key file, generated once; empty for <ecloud.data>/secrets/ssh-host-key")
        String host_key_file() default "";

        @AttributeDefinition(description = "Seconds without traffic after which a session is closed")
        int idle_timeout_seconds() default 600;

        @AttributeDefinition(description = "Open SSH connections per container owner")
        int max_sessions_per_user() default 10;

        @AttributeDefinition(description = "Key exchange allow-list, in order of preference")
        String[] kex_algorithms() default {"curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256",
                "ecdh-sha2-nistp384", "ecdh-sha2-nistp521", "diffie-hellman-group16-sha512",
                "diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256"};

        @AttributeDefinition(description = "Cipher allow-list, in order of preference (chacha20-poly1305@openssh.com "
                + "is left out by default: MINA runs it in plain Java, at a fifth of AES's throughput)")
        String[] ciphers() default {"aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr",
                "aes256-ctr"};

        @AttributeDefinition(description = "MAC allow-list, in order of preference")
        String[] macs() default {"hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256",
                "hmac-sha2-512"};

        @AttributeDefinition(description = "Host key signature allow-list, in order of preference")
        String[] host_key_algorithms() default {"ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512",
                "rsa-sha2-256"};
    }

    /** After "SSH-2.0-": the software version (RFC 4253: no spaces, no minus signs), a space, then a comment. */
    static final String IDENTIFICATION = "OpenSSH_compatible ecloud-compute";

    private static final Logger LOG = LoggerFactory.getLogger(SshGateway.class);

    private final SshServer server;
    private final ExecutorService stdinPumps;
    private final SessionGuard guard;

    @Activate
    public SshGateway(Config config, BundleContext context, @Reference ContainerAccess access) {
        this(config, dataDirectory(context.getProperty("ecloud.data")), access);
    }

    /** A gateway outside OSGi (tests): {@code dataDirectory} is where the default host key file goes. */
    public SshGateway(Config config, Path dataDirectory, ContainerAccess access) {
        Path hostKeyFile = config.host_key_file().isBlank() ? dataDirectory.resolve("secrets").resolve("ssh-host-key")
                : Path.of(config.host_key_file());
        this.stdinPumps = Executors.newCachedThreadPool(daemonThreads("ssh-stdin"));
        this.guard = new SessionGuard(access, Math.max(1, config.max_sessions_per_user()));
        ContainerForwarding forwarding = new ContainerForwarding(access);

        server = SshServer.setUpDefaultServer();
        server.setHost(config.bind_address());
        server.setPort(config.port());
        server.setKeyPairProvider(HostKeys.loadOrGenerate(hostKeyFile));
        Algorithms.apply(server, Algorithms.names(config.kex_algorithms()), Algorithms.names(config.ciphers()),
                Algorithms.names(config.macs()), Algorithms.names(config.host_key_algorithms()));
        // public keys only: no password, no keyboard-interactive, no host-based, no GSS
        server.setUserAuthFactories(List.of(guard.userAuthFactory(Algorithms.userKeySignatures())));
        server.setPublickeyAuthenticator(guard);
        server.setPasswordAuthenticator(null);
        server.setKeyboardInteractiveAuthenticator(null);
        server.setHostBasedAuthenticator(null);
        server.setGSSAuthenticator(null);
        server.addSessionListener(guard);
        server.setGlobalRequestHandlers(globalRequests(server.getGlobalRequestHandlers()));
        // OpenSSH's client tells only servers named OpenSSH* when its reader went away (eow@openssh.com); without
        // it, `ssh id cmd | head` would keep the command writing forever. The software version says what we speak.
        CoreModuleProperties.SERVER_IDENTIFICATION.set(server, IDENTIFICATION);
        server.setChannelFactories(List.of(GatewayChannelSession.FACTORY, forwarding.directTcpipFactory()));
        server.setForwardingFilter(forwarding);
        server.setShellFactory(channel -> new ExecCommand(access, stdinPumps, List.of(), true, "shell"));
        server.setCommandFactory((channel, command) -> new ExecCommand(access, stdinPumps,
                List.of("/bin/sh", "-c", command), true, "exec"));
        server.setSubsystemFactories(List.of(new SubsystemFactory() {
            @Override
            public String getName() {
                return "sftp";
            }

            @Override
            public org.apache.sshd.server.command.Command createSubsystem(
                    org.apache.sshd.server.channel.ChannelSession channel) {
                return new ExecCommand(access, stdinPumps, SFTP_SERVER, false, "sftp");
            }
        }));
        Duration idle = Duration.ofSeconds(Math.max(1, config.idle_timeout_seconds()));
        CoreModuleProperties.IDLE_TIMEOUT.set(server, idle);
        try {
            server.start();
        } catch (IOException e) {
            stdinPumps.shutdownNow();
            throw new UncheckedIOException("SSH gateway cannot listen on " + config.bind_address() + ":"
                    + config.port() + ": " + e.getMessage(), e);
        }
        LOG.info("SSH gateway listening on {}:{} (host key {}, idle timeout {}, at most {} sessions per user)",
                config.bind_address(), port(), hostKeyFile, idle, config.max_sessions_per_user());
    }

    /** The port it listens on (the configured one, or the one picked for port 0). */
    public int port() {
        for (SocketAddress address : server.getBoundAddresses()) {
            if (address instanceof InetSocketAddress inet) return inet.getPort();
        }
        return server.getPort();
    }

    /** Open sessions counted for an owner. */
    int openSessions(String ownerId) {
        return guard.openSessions(ownerId);
    }

    @Deactivate
    @Override
    public void close() {
        try {
            server.stop(true); // closes the acceptor: the port is free when this returns
        } catch (IOException e) {
            LOG.warn("SSH gateway did not stop cleanly", e);
        } finally {
            stdinPumps.shutdownNow();
        }
        LOG.info("SSH gateway stopped");
    }

    /** MINA's defaults, with no-more-sessions@openssh.com as OpenSSH means it. */
    private static List<RequestHandler<ConnectionService>> globalRequests(
            List<RequestHandler<ConnectionService>> defaults) {
        List<RequestHandler<ConnectionService>> handlers = new ArrayList<>();
        for (RequestHandler<ConnectionService> handler : defaults) {
            if (!(handler instanceof NoMoreSessionsHandler)) handlers.add(handler);
        }
        handlers.add(new NoMoreSessions());
        return handlers;
    }

    private static Path dataDirectory(String ecloudData) {
        return Path.of(ecloudData == null || ecloudData.isBlank() ? "data" : ecloudData);
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
