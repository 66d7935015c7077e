package com.ecloud.compute.ssh.internal.common;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.OptionalFeature;
import org.apache.sshd.common.cipher.BuiltinCiphers;
import org.apache.sshd.common.cipher.Cipher;
import org.apache.sshd.common.kex.BuiltinDHFactories;
import org.apache.sshd.common.kex.DHFactory;
import org.apache.sshd.common.mac.BuiltinMacs;
import org.apache.sshd.common.mac.Mac;
import org.apache.sshd.common.signature.BuiltinSignatures;
import org.apache.sshd.common.signature.Signature;
import org.apache.sshd.server.ServerBuilder;
import org.apache.sshd.server.SshServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Restricts a server to allow-lists of algorithm names, in the order given. A name MINA does not know, or
 * cannot run on this JVM, is skipped with a warning, so that a configuration written for a newer MINA still
 * starts.
 */
public final class Algorithms {

    private static final Logger LOG = LoggerFactory.getLogger(Algorithms.class);

    public static final List<String> DEFAULT_KEX = List.of("curve25519-sha256", "curve25519-sha256@libssh.org",
            "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521", "diffie-hellman-group16-sha512",
            "diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256");
    /**
     * No chacha20-poly1305: MINA runs it in plain Java at a fifth of the speed of AES, which the JVM runs on the
     * CPU's AES instructions; and clients pick the first of their own list that the server offers (OpenSSH:
     * chacha20 first), so offering it at all is choosing it.
     */
    public static final List<String> DEFAULT_CIPHERS = List.of("aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
            "aes128-ctr", "aes192-ctr", "aes256-ctr");
    public static final List<String> DEFAULT_MACS = List.of("hmac-sha2-256-etm@openssh.com",
            "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512");
    public static final List<String> DEFAULT_HOST_KEY = List.of("ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512",
            "rsa-sha2-256");

    private Algorithms() {
    }

    /** Applies the four allow-lists; an empty list (after skipping) is an error: nothing could be negotiated. */
    public static void apply(SshServer server, List<String> kex, List<String> ciphers, List<String> macs,
            List<String> hostKey) {
        List<DHFactory> dh = select("kex.algorithms", kex, BuiltinDHFactories::fromFactoryName);
        server.setKeyExchangeFactories(
                NamedFactory.setUpTransformedFactories(false, dh, ServerBuilder.DH2KEX));
        server.setCipherFactories(new ArrayList<NamedFactory<Cipher>>(
                select("ciphers", ciphers, BuiltinCiphers::fromFactoryName)));
        server.setMacFactories(new ArrayList<NamedFactory<Mac>>(select("macs", macs, BuiltinMacs::fromFactoryName)));
        server.setSignatureFactories(new ArrayList<NamedFactory<Signature>>(
                select("host.key.algorithms", hostKey, BuiltinSignatures::fromFactoryName)));
    }

    /**
     * Signatures accepted for users' keys: every supported current one (the host key list above is about the
     * server's key; users keep their ed25519, ECDSA and RSA keys). SHA-1 RSA and DSA are left out.
     */
    public static List<NamedFactory<Signature>> userKeySignatures() {
        List<NamedFactory<Signature>> list = new ArrayList<>();
        for (String name : List.of("ssh-ed25519", "sk-ssh-ed25519@openssh.com", "ecdsa-sha2-nistp256",
                "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "sk-ecdsa-sha2-nistp256@openssh.com", "rsa-sha2-512",
                "rsa-sha2-256")) {
            BuiltinSignatures s = BuiltinSignatures.fromFactoryName(name);
            if (s != null && s.isSupported()) list.add(s);
        }
        return list;
    }

    static <T extends OptionalFeature> List<T> select(String what, List<String> names, Function<String, T> byName) {
        List<T> selected = new ArrayList<>();
        for (String name : names) {
            T factory = byName.apply(name);
            if (factory == null) {
                LOG.warn("SSH {}: unknown algorithm {} skipped", what, name);
            } else if (!factory.isSupported()) {
                LOG.warn("SSH {}: algorithm {} is not supported on this JVM, skipped", what, name);
            } else if (!selected.contains(factory)) {
                selected.add(factory);
            }
        }
        if (selected.isEmpty()) {
            throw new IllegalArgumentException("SSH " + what + ": none of " + names + " is supported");
        }
        return selected;
    }

    /** Splits configuration values: each element may itself be a comma-separated list (a .cfg line). */
    public static List<String> names(String[] values) {
        List<String> out = new ArrayList<>();
        if (values == null) return out;
        for (String v : values) {
            if (v == null) continue;
            for (String part : v.split(",")) {
                String name = part.trim();
                if (!name.isEmpty()) out.add(name);
            }
        }
        return out;
    }
}
