package com.ecloud.compute.gateway.internal.tls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import javax.net.ssl.SSLException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;

/**
 * The gateway's certificate for *.compute.&lt;domain&gt; and compute.&lt;domain&gt;: either the operator's
 * files, or a wildcard certificate signed by a local CA that this class keeps in a directory.
 */
public final class GatewayCertificates {

    private static final Logger LOG = LoggerFactory.getLogger(GatewayCertificates.class);

    static final String CA_FILE = "ca.pem";
    static final String CA_KEY_FILE = "ca-key.pem";
    static final String LEAF_FILE = "gateway.pem";
    static final String LEAF_KEY_FILE = "gateway-key.pem";
    /** Renew this long before expiry so that a gateway restarted now and then never serves an expired one. */
    static final Duration RENEW_BEFORE_EXPIRY = Duration.ofDays(30);
    /** Bounds how long a client may take to send its ClientHello and finish the handshake. */
    static final long HANDSHAKE_TIMEOUT_MILLIS = 10_000;
    private static final Pattern DNS_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*");

    private final Path caFile;
    private final X509Certificate[] chain;
    private final PrivateKey key;
    private final SslContext sslContext;

    private GatewayCertificates(Path caFile, List<X509Certificate> chain, PrivateKey key) throws SSLException {
        this.caFile = caFile;
        this.chain = chain.toArray(X509Certificate[]::new);
        this.key = key;
        this.sslContext = SslContextBuilder.forServer(key, this.chain)
                .sslProvider(SslProvider.JDK)
                .protocols("TLSv1.3", "TLSv1.2")
                // The proxy speaks HTTP/1.1 only: advertise nothing else, and let clients without ALPN in.
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_1_1))
                .build();
    }

    /**
     * Configured files (PEM: certificate chain, and a PKCS#8 or traditional private key, EC or RSA) when both
     * are given (non-blank); otherwise a local CA generated once into directory (ca.pem public, ca-key.pem
     * 0600) and a wildcard certificate it signs (gateway.pem, gateway-key.pem 0600), regenerated when missing,
     * unreadable, not for this domain, or expiring within 30 days. The CA is never regenerated while its
     * files are valid (users trust it once). Files are written atomically (temp + move), directory 0700.
     *
     * @throws IllegalArgumentException when the domain is no DNS name, or the configured files are unusable
     *                                  (unreadable, no certificate, no key, key not the certificate's)
     * @throws UncheckedIOException     when the directory or its files cannot be written
     */
    public static GatewayCertificates loadOrCreate(Path directory, String domain, String certFile, String keyFile) {
        return loadOrCreate(directory, domain, certFile, keyFile, Clock.systemUTC());
    }

    /** With a clock, so that tests can look at the files from the future. */
    static GatewayCertificates loadOrCreate(Path directory, String domain, String certFile, String keyFile,
            Clock clock) {
        String normalizedDomain = normalizeDomain(domain);
        boolean certGiven = certFile != null && !certFile.isBlank();
        boolean keyGiven = keyFile != null && !keyFile.isBlank();
        if (certGiven && keyGiven) {
            return fromConfiguredFiles(Path.of(certFile.strip()), Path.of(keyFile.strip()), normalizedDomain,
                    clock.instant());
        }
        if (certGiven || keyGiven) {
            LOG.warn("Only one of the gateway's certificate and key files is configured; using the local CA instead");
        }
        try {
            return fromLocalCa(directory, normalizedDomain, clock.instant());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep the gateway certificates in " + directory, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot make the gateway certificates: " + e.getMessage(), e);
        }
    }

    /** The local CA's certificate that clients should trust; null when configured files are used. */
    public Path caFile() {
        return caFile;
    }

    /** Leaf first. */
    public X509Certificate[] chain() {
        return chain.clone();
    }

    public PrivateKey key() {
        return key;
    }

    /** A handler factory for ProxyServer.listen: TLS 1.2 and 1.3 only, ALPN http/1.1, SNI recorded (SniHandler). */
    public Supplier<ChannelHandler> tlsHandlers() {
        // One certificate covers every name: the mapping only makes SniHandler record the name the client sent.
        return () -> new SniHandler(serverName -> sslContext, HANDSHAKE_TIMEOUT_MILLIS);
    }

    /** Visible for tests: the context every handler uses. */
    SslContext sslContext() {
        return sslContext;
    }

    private static GatewayCertificates fromConfiguredFiles(Path certFile, Path keyFile, String domain, Instant now) {
        List<X509Certificate> chain;
        PrivateKey key;
        try {
            chain = PemFiles.readCertificates(certFile);
            key = PemFiles.readPrivateKey(keyFile);
        } catch (IOException e) {
            throw new IllegalArgumentException("unusable gateway TLS files: " + e.getMessage(), e);
        }
        X509Certificate leaf = chain.get(0);
        if (!keyMatches(key, leaf.getPublicKey())) {
            throw new IllegalArgumentException(
                    "the private key in " + keyFile + " does not belong to the first certificate in " + certFile);
        }
        // The operator's choice wins; say what clients will complain about.
        if (!coversNames(leaf, domain)) {
            LOG.warn("The configured certificate {} does not name {}", certFile,
                    String.join(" and ", CertificateIssuer.serverNames(domain)));
        }
        if (now.isAfter(leaf.getNotAfter().toInstant())) {
            LOG.warn("The configured certificate {} expired on {}", certFile, leaf.getNotAfter().toInstant());
        }
        try {
            return new GatewayCertificates(null, chain, key);
        } catch (SSLException e) {
            throw new IllegalArgumentException("the configured TLS files cannot serve TLS: " + e.getMessage(), e);
        }
    }

    private static GatewayCertificates fromLocalCa(Path directory, String domain, Instant now)
            throws IOException, GeneralSecurityException {
        Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(PemFiles.OWNER_ONLY_DIRECTORY));
        // createDirectories leaves an existing directory as it was, and the umask may have widened a new one.
        Files.setPosixFilePermissions(directory, PemFiles.OWNER_ONLY_DIRECTORY);
        CertificateIssuer issuer = new CertificateIssuer(new SecureRandom());

        CertificateIssuer.Issued ca = readValidCa(directory, now);
        if (ca == null) {
            ca = issuer.newCa(domain, now);
            // Key before certificate: a crash in between leaves a pair that does not match, which is redone.
            PemFiles.writeAtomically(directory.resolve(CA_KEY_FILE), PemFiles.privateKeyPem(ca.key()),
                    PemFiles.OWNER_ONLY_FILE);
            PemFiles.writeAtomically(directory.resolve(CA_FILE), PemFiles.certificatesPem(List.of(ca.certificate())),
                    PemFiles.WORLD_READABLE_FILE);
            LOG.info("Generated a local CA for the gateway; clients must trust {}", directory.resolve(CA_FILE));
        }
        CertificateIssuer.Issued leaf = readValidLeaf(directory, ca, domain, now);
        if (leaf == null) {
            leaf = issuer.newLeaf(ca, domain, now);
            PemFiles.writeAtomically(directory.resolve(LEAF_KEY_FILE), PemFiles.privateKeyPem(leaf.key()),
                    PemFiles.OWNER_ONLY_FILE);
            // The full chain, so that the file alone serves other TLS servers too.
            PemFiles.writeAtomically(directory.resolve(LEAF_FILE),
                    PemFiles.certificatesPem(List.of(leaf.certificate(), ca.certificate())),
                    PemFiles.WORLD_READABLE_FILE);
            LOG.info("Issued the gateway certificate for {} until {}",
                    String.join(" and ", CertificateIssuer.serverNames(domain)), leaf.certificate().getNotAfter().toInstant());
        }
        return new GatewayCertificates(directory.resolve(CA_FILE), List.of(leaf.certificate(), ca.certificate()),
                leaf.key());
    }

    /** The CA from the directory, or null when it is missing, unreadable, no CA, mismatched or expiring. */
    private static CertificateIssuer.Issued readValidCa(Path directory, Instant now) {
        CertificateIssuer.Issued ca = readPair(directory.resolve(CA_FILE), directory.resolve(CA_KEY_FILE));
        if (ca == null) {
            return null;
        }
        if (ca.certificate().getBasicConstraints() < 0) {
            LOG.warn("{} is no CA certificate; making a new local CA", directory.resolve(CA_FILE));
            return null;
        }
        if (!validLongEnough(ca.certificate(), now)) {
            LOG.warn("The local CA {} expires on {}; making a new one that clients must trust again",
                    directory.resolve(CA_FILE), ca.certificate().getNotAfter().toInstant());
            return null;
        }
        return ca;
    }

    /** The leaf from the directory, or null when it must be issued again. */
    private static CertificateIssuer.Issued readValidLeaf(Path directory, CertificateIssuer.Issued ca, String domain,
            Instant now) {
        CertificateIssuer.Issued leaf = readPair(directory.resolve(LEAF_FILE), directory.resolve(LEAF_KEY_FILE));
        if (leaf == null) {
            return null;
        }
        X509Certificate certificate = leaf.certificate();
        if (!signedBy(certificate, ca.certificate())) {
            LOG.debug("{} is not signed by the current local CA", directory.resolve(LEAF_FILE));
            return null;
        }
        if (!coversNames(certificate, domain)) {
            LOG.debug("{} is not for the domain {}", directory.resolve(LEAF_FILE), domain);
            return null;
        }
        if (!validLongEnough(certificate, now)) {
            LOG.debug("{} expires on {}", directory.resolve(LEAF_FILE), certificate.getNotAfter().toInstant());
            return null;
        }
        return leaf;
    }

    /** The first certificate of certFile with the key of keyFile, or null when either is unusable or they differ. */
    private static CertificateIssuer.Issued readPair(Path certFile, Path keyFile) {
        if (!Files.exists(certFile) && !Files.exists(keyFile)) {
            return null;
        }
        try {
            X509Certificate certificate = PemFiles.readCertificates(certFile).get(0);
            PrivateKey key = PemFiles.readPrivateKey(keyFile);
            if (!keyMatches(key, certificate.getPublicKey())) {
                LOG.warn("The key in {} does not belong to {}; making new ones", keyFile, certFile);
                return null;
            }
            return new CertificateIssuer.Issued(certificate, key);
        } catch (NoSuchFileException e) {
            LOG.warn("{} is missing; making new {} and {}", e.getFile(), certFile.getFileName(), keyFile.getFileName());
            return null;
        } catch (IOException e) {
            LOG.warn("Cannot use {} with {} ({}); making new ones", certFile, keyFile, e.getMessage());
            return null;
        }
    }

    private static boolean validLongEnough(X509Certificate certificate, Instant now) {
        return !now.isBefore(certificate.getNotBefore().toInstant())
                && now.plus(RENEW_BEFORE_EXPIRY).isBefore(certificate.getNotAfter().toInstant());
    }

    private static boolean signedBy(X509Certificate certificate, X509Certificate ca) {
        if (!certificate.getIssuerX500Principal().equals(ca.getSubjectX500Principal())) {
            return false;
        }
        try {
            certificate.verify(ca.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** Whether the certificate's DNS names include both names the gateway answers for. */
    static boolean coversNames(X509Certificate certificate, String domain) {
        Collection<List<?>> alternativeNames;
        try {
            alternativeNames = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return false;
        }
        if (alternativeNames == null) {
            return false;
        }
        List<String> dnsNames = alternativeNames.stream()
                .filter(entry -> Integer.valueOf(2).equals(entry.get(0))) // 2: dNSName
                .map(entry -> String.valueOf(entry.get(1)).toLowerCase(Locale.ROOT))
                .toList();
        for (String required : CertificateIssuer.serverNames(domain)) {
            if (!dnsNames.contains(required)) {
                return false;
            }
        }
        return true;
    }

    /** Proves the pair by signing with the private key and verifying with the public one (works for EC and RSA). */
    static boolean keyMatches(PrivateKey privateKey, PublicKey publicKey) {
        if (!privateKey.getAlgorithm().equals(publicKey.getAlgorithm())) {
            return false;
        }
        String algorithm = switch (privateKey.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            default -> null;
        };
        if (algorithm == null) {
            return false;
        }
        try {
            byte[] probe = new byte[32];
            new SecureRandom().nextBytes(probe);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(privateKey);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** Lower case, without the trailing dot, and a DNS name; the certificate names are built from it. */
    static String normalizeDomain(String domain) {
        if (domain == null) {
            throw new IllegalArgumentException("the gateway's domain is missing");
        }
        String normalized = domain.strip().toLowerCase(Locale.ROOT);
        if (normalized.endsWith(".")) {
            normalized = normalized.substring(0, normalized.length() - 1);
        }
        if (normalized.isEmpty() || normalized.length() > 240 || !DNS_NAME.matcher(normalized).matches()) {
            throw new IllegalArgumentException("the gateway's domain is no DNS name: \"" + domain + "\"");
        }
        return normalized;
    }
}
