package com.ecloud.compute.gateway.internal.tls;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Makes the local CA and the wildcard certificates it signs: EC P-256 keys, SHA256withECDSA. */
final class CertificateIssuer {

    static final Duration CA_VALIDITY = Duration.ofDays(3652);
    static final Duration LEAF_VALIDITY = Duration.ofDays(397);
    /** Backdating notBefore lets clients whose clocks run a little behind accept a fresh certificate. */
    static final Duration CLOCK_SKEW_ALLOWANCE = Duration.ofHours(1);
    private static final String SIGNATURE_ALGORITHM = "SHA256withECDSA";

    private final SecureRandom random;

    CertificateIssuer(SecureRandom random) {
        this.random = random;
    }

    /** A certificate with its private key; the CA's own and the gateway's. */
    record Issued(X509Certificate certificate, PrivateKey key) {
    }

    static String caCommonName(String domain) {
        return "ecloud compute local CA (" + domain + ")";
    }

    /** The wildcard for containers and the bare name for the gateway's own address. */
    static String[] serverNames(String domain) {
        return new String[] {"*.compute." + domain, "compute." + domain};
    }

    Issued newCa(String domain, Instant now) throws GeneralSecurityException {
        KeyPair keys = newKeyPair();
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, caCommonName(domain)).build();
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, newSerial(),
                    Date.from(now.minus(CLOCK_SKEW_ALLOWANCE)), Date.from(now.plus(CA_VALIDITY)), subject,
                    keys.getPublic())
                    // pathlen 0: this CA signs server certificates only, never another CA.
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            extensions.createSubjectKeyIdentifier(keys.getPublic()));
            return new Issued(sign(builder, keys.getPrivate()), keys.getPrivate());
        } catch (CertIOException e) {
            throw new GeneralSecurityException("cannot build the CA certificate", e);
        }
    }

    /** The server certificate for *.compute.domain and compute.domain; it never outlives the CA. */
    Issued newLeaf(Issued ca, String domain, Instant now) throws GeneralSecurityException {
        KeyPair keys = newKeyPair();
        String[] names = serverNames(domain);
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, names[1]).build();
        Instant notAfter = now.plus(LEAF_VALIDITY);
        Instant caNotAfter = ca.certificate().getNotAfter().toInstant();
        if (notAfter.isAfter(caNotAfter)) {
            notAfter = caNotAfter;
        }
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(ca.certificate(), newSerial(),
                    Date.from(now.minus(CLOCK_SKEW_ALLOWANCE)), Date.from(notAfter), subject, keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                            new GeneralName(GeneralName.dNSName, names[0]),
                            new GeneralName(GeneralName.dNSName, names[1])}))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            extensions.createSubjectKeyIdentifier(keys.getPublic()))
                    .addExtension(Extension.authorityKeyIdentifier, false,
                            extensions.createAuthorityKeyIdentifier(ca.certificate()));
            return new Issued(sign(builder, ca.key()), keys.getPrivate());
        } catch (CertIOException e) {
            throw new GeneralSecurityException("cannot build the gateway certificate", e);
        }
    }

    private KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), random);
        return generator.generateKeyPair();
    }

    /** 128 random bits with the top bit set, so that every serial has the same length and is positive. */
    private BigInteger newSerial() {
        return new BigInteger(128, random).setBit(127);
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signingKey)
            throws GeneralSecurityException {
        try {
            ContentSigner signer = new JcaContentSignerBuilder(SIGNATURE_ALGORITHM).build(signingKey);
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException("cannot sign a certificate", e);
        }
    }
}
