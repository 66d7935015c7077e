package com.ecloud.compute.ssh.internal.operator;

import java.io.IOException;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.apache.sshd.core.CoreModuleProperties;
import org.apache.sshd.server.SshServer;
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

import com.ecloud.compute.ssh.internal.common.Algorithms;
import com.ecloud.compute.ssh.internal.common.HostKeys;

/**
 * The operators' remote shell: the Felix Gogo shell over SSH, on its own port (loopback by default), for the
 * public keys listed in its configuration only. Interactive with a small line editor when the client asks for a
 * terminal, one command per connection otherwise ({@code ssh -p 8101 op@127.0.0.1 compute:hosts}).
 */
@Component(configurationPid = OperatorShell.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, immediate = true)
@Designate(ocd = OperatorShell.Config.class)
public class OperatorShell {

    static final String PID = "com.ecloud.compute.ssh.operator";
    private static final Logger LOG = LoggerFactory.getLogger(OperatorShell.class);

    @ObjectClassDefinition(name = "ecloud compute operators' SSH shell")
    public @interface Config {
        @AttributeDefinition(description = "Port of the operators' shell")
        int port() default 8101;

        @AttributeDefinition(description = "Address it listens on; loopback unless operators need it elsewhere")
        String bind_address() default "127.0.0.1";

        @AttributeDefinition(description = "Operators' public keys, OpenSSH authorized_keys lines; none: nobody gets in")
        String[] authorized_keys() default {};

        @AttributeDefinition(description = "Host key file; empty: <data>/secrets/ssh-operator-host-key")
        String host_key_file() default "";

        @AttributeDefinition(description = "Seconds without traffic before a session is closed")
        int idle_timeout_seconds() default 1800;
    }

    private final SshServer server;

    @Activate
    public OperatorShell(Config config, BundleContext context, @Reference CommandProcessor processor) throws IOException {
        String data = context.getProperty("ecloud.data") == null ? "data" : context.getProperty("ecloud.data");
        Path hostKey = config.host_key_file().isBlank()
                ? Path.of(data).resolve("secrets").resolve("ssh-operator-host-key") : Path.of(config.host_key_file());
        List<PublicKey> operators = parseKeys(config.authorized_keys());
        if (operators.isEmpty()) LOG.info("operators' shell: no authorized.keys configured, nobody can log in");
        server = SshServer.setUpDefaultServer();
        server.setHost(config.bind_address());
        server.setPort(config.port());
        server.setKeyPairProvider(HostKeys.loadOrGenerate(hostKey));
        Algorithms.apply(server, Algorithms.DEFAULT_KEX, Algorithms.DEFAULT_CIPHERS, Algorithms.DEFAULT_MACS,
                Algorithms.DEFAULT_HOST_KEY);
        server.setPasswordAuthenticator(null);
        server.setKeyboardInteractiveAuthenticator(null);
        server.setPublickeyAuthenticator((user, key, session) -> {
            boolean known = operators.stream().anyMatch(k -> KeyUtils.compareKeys(k, key));
            if (!known) LOG.info("operators' shell: key {} refused", KeyUtils.getFingerPrint(key));
            return known;
        });
        CoreModuleProperties.IDLE_TIMEOUT.set(server, Duration.ofSeconds(Math.max(10, config.idle_timeout_seconds())));
        server.setShellFactory(channel -> new GogoCommand(processor, null));
        server.setCommandFactory((channel, command) -> new GogoCommand(processor, command));
        server.start();
        LOG.info("operators' shell listening on {}:{}", config.bind_address(), server.getPort());
    }

    @Deactivate
    void close() throws IOException {
        server.stop(true);
    }

    /** The port it listens on (the configured one, or the one chosen for port 0). */
    int port() {
        return server.getPort();
    }

    static List<PublicKey> parseKeys(String[] lines) {
        List<PublicKey> keys = new ArrayList<>();
        List<String> entries = new ArrayList<>();
        for (String value : lines == null ? new String[0] : lines) {
            // a .cfg file gives one string: several keys there are separated by commas before a key type
            if (value != null) entries.addAll(List.of(value.split(",(?=\\s*(ssh-|ecdsa-|sk-))")));
        }
        for (String line : entries) {
            if (line == null || line.isBlank()) continue;
            try {
                keys.add(AuthorizedKeyEntry.parseAuthorizedKeyEntry(line.strip())
                        .resolvePublicKey(null, PublicKeyEntryResolver.IGNORING));
            } catch (IOException | java.security.GeneralSecurityException | IllegalArgumentException e) {
                LOG.warn("operators' shell: an authorized.keys entry is not a public key, ignored: {}", e.getMessage());
            }
        }
        keys.removeIf(k -> k == null);
        return keys;
    }
}
