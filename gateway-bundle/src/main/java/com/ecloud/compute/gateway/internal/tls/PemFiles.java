package com.ecloud.compute.gateway.internal.tls;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Reads and writes the PEM files of certificates and private keys. Keys and certificates come out as JDK objects
 * (JDK KeyFactory / CertificateFactory) so that the JDK's TLS engine signs with them without BouncyCastle as a
 * JVM-wide provider.
 */
final class PemFiles {

    // Set.copyOf: fromString gives a mutable set, and these are shared constants.
    static final Set<PosixFilePermission> OWNER_ONLY_FILE = Set.copyOf(PosixFilePermissions.fromString("rw-------"));
    static final Set<PosixFilePermission> WORLD_READABLE_FILE =
            Set.copyOf(PosixFilePermissions.fromString("rw-r--r--"));
    static final Set<PosixFilePermission> OWNER_ONLY_DIRECTORY =
            Set.copyOf(PosixFilePermissions.fromString("rwx------"));

    private PemFiles() {
    }

    /** Every certificate in the file, in file order; fails when there is none. */
    static List<X509Certificate> readCertificates(Path file) throws IOException {
        List<X509Certificate> certificates = new ArrayList<>();
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
                PEMParser parser = new PEMParser(reader)) {
            for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
                if (object instanceof X509CertificateHolder holder) {
                    certificates.add(converter.getCertificate(holder));
                }
            }
        } catch (CertificateException | RuntimeException e) {
            // PEMParser reports broken base64/DER as runtime exceptions: the file is unusable either way.
            throw new IOException(file + ": not a readable PEM certificate file: " + e.getMessage(), e);
        }
        if (certificates.isEmpty()) {
            throw new IOException(file + ": holds no PEM certificate");
        }
        return certificates;
    }

    /** The first private key in the file: PKCS#8 ("PRIVATE KEY") or traditional ("EC/RSA PRIVATE KEY"), unencrypted. */
    static PrivateKey readPrivateKey(Path file) throws IOException {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
                PEMParser parser = new PEMParser(reader)) {
            for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
                if (object instanceof PrivateKeyInfo info) {
                    return toJdkKey(info);
                }
                if (object instanceof PEMKeyPair pair) {
                    return toJdkKey(pair.getPrivateKeyInfo());
                }
                if (object instanceof PEMEncryptedKeyPair || object instanceof PKCS8EncryptedPrivateKeyInfo) {
                    throw new IOException(file + ": the private key is encrypted; give an unencrypted key");
                }
                // Anything else (e.g. the "EC PARAMETERS" block openssl ecparam writes first) is skipped.
            }
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IOException(file + ": not a readable PEM private key: " + e.getMessage(), e);
        }
        throw new IOException(file + ": holds no PEM private key");
    }

    private static PrivateKey toJdkKey(PrivateKeyInfo info) throws IOException, GeneralSecurityException {
        ASN1ObjectIdentifier algorithm = info.getPrivateKeyAlgorithm().getAlgorithm();
        String jdkAlgorithm;
        if (X9ObjectIdentifiers.id_ecPublicKey.equals(algorithm)) {
            jdkAlgorithm = "EC";
        } else if (PKCSObjectIdentifiers.rsaEncryption.equals(algorithm)) {
            jdkAlgorithm = "RSA";
        } else {
            throw new GeneralSecurityException("unsupported key algorithm " + algorithm + " (EC or RSA only)");
        }
        return KeyFactory.getInstance(jdkAlgorithm).generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
    }

    /** Certificates as PEM, in the given order. */
    static String certificatesPem(List<X509Certificate> certificates) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            for (X509Certificate certificate : certificates) {
                writer.writeObject(certificate);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        return text.toString();
    }

    /** The key as unencrypted PKCS#8 PEM ("PRIVATE KEY"), the form every TLS server reads. */
    static String privateKeyPem(PrivateKey key) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(new JcaPKCS8Generator(key, null));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text.toString();
    }

    /**
     * Replaces file with text in one step: a temp file in the same directory that has the final permissions from
     * its creation (a key is never readable by others, not even briefly), forced to disk, then renamed over file.
     */
    static void writeAtomically(Path file, String text, Set<PosixFilePermission> permissions) throws IOException {
        Path directory = file.toAbsolutePath().getParent();
        Path temp = Files.createTempFile(directory, "." + file.getFileName(), ".tmp",
                PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE));
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
                channel.force(true);
            }
            Files.setPosixFilePermissions(temp, permissions);
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
    }
}
