package com.ecloud.compute.gateway.internal.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GatewayCertificatesTest {

    private static final String DOMAIN = "example.test";
    private static final Instant START = Instant.parse("2026-01-10T12:00:00Z");

    @TempDir
    Path temp;

    @Test
    void createsCaAndLeafFilesWithOwnerOnlyKeysAndPrivateDirectory() throws Exception {
        Path directory = temp.resolve("state/gateway-tls"); // does not exist yet: parents are made too

        GatewayCertificates certificates = GatewayCertificates.loadOrCreate(directory, DOMAIN, "", null);

        assertEquals("rwx------", mode(directory));
        assertEquals("rw-------", mode(directory.resolve("ca-key.pem")));
        assertEquals("rw-------", mode(directory.resolve("gateway-key.pem")));
        assertEquals("rw-r--r--", mode(directory.resolve("ca.pem")));
        assertEquals("rw-r--r--", mode(directory.resolve("gateway.pem")));
        // Written by temp + move: no temp file may stay behind.
        assertEquals(Set.of("ca.pem", "ca-key.pem", "gateway.pem", "gateway-key.pem"), fileNames(directory));
        assertEquals(directory.resolve("ca.pem"), certificates.caFile());

        X509Certificate[] chain = certificates.chain();
        assertEquals(2, chain.length);
        assertEquals(readCertificates(directory.resolve("ca.pem")).get(0), chain[1]);
        assertEquals(readCertificates(directory.resolve("gateway.pem")), List.of(chain));
        assertTrue(GatewayCertificates.keyMatches(certificates.key(), chain[0].getPublicKey()));
        assertFalse(GatewayCertificates.keyMatches(certificates.key(), chain[1].getPublicKey()));
    }

    @Test
    void existingDirectoryIsMadePrivate() throws Exception {
        Path directory = Files.createDirectory(temp.resolve("tls"));
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));

        GatewayCertificates.loadOrCreate(directory, DOMAIN, null, null);

        assertEquals("rwx------", mode(directory));
    }

    @Test
    void caHasTheLocalCaProfile() throws Exception {
        X509Certificate ca = GatewayCertificates.loadOrCreate(temp, DOMAIN, null, null, clockAt(START)).chain()[1];

        assertEquals("CN=ecloud compute local CA (example.test)", ca.getSubjectX500Principal().getName());
        assertEquals(ca.getSubjectX500Principal(), ca.getIssuerX500Principal());
        ca.verify(ca.getPublicKey()); // self-signed
        assertEquals(0, ca.getBasicConstraints(), "CA:true with pathlen 0");
        assertTrue(ca.getCriticalExtensionOIDs().contains(Extension.basicConstraints.getId()));
        assertArrayEquals(new boolean[] {false, false, false, false, false, true, true, false, false},
                ca.getKeyUsage(), "keyCertSign and cRLSign only");
        assertEquals("SHA256withECDSA", ca.getSigAlgName());
        assertEquals(256, ((ECPublicKey) ca.getPublicKey()).getParams().getCurve().getField().getFieldSize());
        assertEquals(START.plus(Duration.ofDays(3652)), ca.getNotAfter().toInstant());
        assertFalse(ca.getNotBefore().toInstant().isAfter(START));
        assertEquals(128, ca.getSerialNumber().bitLength());
        assertTrue(subjectKeyId(ca).length > 0);
    }

    @Test
    void leafIsAWildcardServerCertificateSignedByTheCa() throws Exception {
        X509Certificate[] chain = GatewayCertificates.loadOrCreate(temp, DOMAIN, null, null, clockAt(START)).chain();
        X509Certificate leaf = chain[0];
        X509Certificate ca = chain[1];

        leaf.verify(ca.getPublicKey());
        assertEquals(ca.getSubjectX500Principal(), leaf.getIssuerX500Principal());
        assertEquals(List.of("*.compute.example.test", "compute.example.test"), dnsNames(leaf));
        assertEquals(List.of("1.3.6.1.5.5.7.3.1"), leaf.getExtendedKeyUsage(), "serverAuth");
        assertArrayEquals(new boolean[] {true, false, false, false, false, false, false, false, false},
                leaf.getKeyUsage(), "digitalSignature only");
        assertEquals(-1, leaf.getBasicConstraints(), "no CA");
        assertEquals("SHA256withECDSA", leaf.getSigAlgName());
        assertEquals(256, ((ECPublicKey) leaf.getPublicKey()).getParams().getCurve().getField().getFieldSize());
        assertEquals(START.plus(Duration.ofDays(397)), leaf.getNotAfter().toInstant());
        assertEquals(128, leaf.getSerialNumber().bitLength());
        assertTrue(subjectKeyId(leaf).length > 0);
        assertArrayEquals(subjectKeyId(ca), authorityKeyId(leaf));

        X509Certificate otherLeaf = GatewayCertificates.loadOrCreate(temp.resolve("other"), DOMAIN, null, null)
                .chain()[0];
        assertNotEquals(leaf.getSerialNumber(), otherLeaf.getSerialNumber(), "serials are random");
    }

    @Test
    void secondLoadKeepsTheCaAndTheLeafByteForByte() throws Exception {
        GatewayCertificates first = GatewayCertificates.loadOrCreate(temp, DOMAIN, null, null);
        List<byte[]> before = fileContents(temp);

        GatewayCertificates second = GatewayCertificates.loadOrCreate(temp, DOMAIN, null, null);

        assertContentsEqual(before, fileContents(temp));
        assertArrayEquals(first.chain(), second.chain());
        assertArrayEquals(first.key().getEncoded(), second.key().getEncoded());
    }

    @Test
    void domainIsComparedWithoutCaseOrTrailingDot() throws Exception {
        GatewayCertificates.loadOrCreate(temp, DOMAIN, null, null);
        List<byte[]> before = fileContents(temp);

        GatewayCertificates again = GatewayCertificates.loadOrCreate(temp, "Example.TEST.", null, null);

        assertContentsEqual(before, fileContents(temp));
        assertEquals(List.of("*.compute.example.test", "compute.example.test"), dnsNames(again.chain()[0]));
    }

    @Test
    void domainThatIsNoDnsNameIsRefused() {
        for (String bad : new String[] {"", " ", "bad domain", "-x.test", "a..b", "ex*ample.test"}) {
            assertThrows(IllegalArgumentException.class,
                    () -> GatewayCertificates.loadOrCreate(temp, bad, null, null), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> GatewayCertificates.loadOrCreate(temp, null, null, null));
    }

    @Test
    void anotherDomainKeepsTheCaAndIssuesANewLeaf() throws Exception {
        GatewayCertificates first = GatewayCertificates.loadOrCreate(temp, DOMAIN, null, null);
        byte[] ca = Files.readAllBytes(temp.resolve("ca.pem"));
        byte[] caKey = Files.readAllBytes(temp.resolve("ca-key.pem"));

        GatewayCertificates second = GatewayCertificates.loadOrCreate(temp, "other.test", null, null);

        assertArrayEquals(ca, Files.readAllBytes(temp.resolve("ca.pem")));
        assertArrayEquals(caKey, Files.readAllBytes(temp.resolve("ca-key.pem")));
        assertEquals(List.of("*.compute.other.test", "compute.other.test"), dnsNames(second.chain()[0]));
        assertEquals(second.chain()[0], readCertificates(temp.resolve("gateway.pem")).get(0));
        assertNotEquals(first.chain()[0], second.chain()[0]);
        second.chain()[0].verify(first.chain()[1].getPublicKey());
    }

    @Test
    void leafIsKeptUntilThirtyDaysBeforeExpiryAndThenRenewed() throws Exception {
        GatewayCertificates.loadOrCreate(temp, DOMAIN, null, null, clockAt(START));
        List<byte[]> original = fileContents(temp);
        byte[] ca = Files.readAllBytes(temp.resolve("ca.pem"));

        // 37 days left: still good.
        GatewayCertificates.loadOrCreate(temp, DOMAIN, null, null, clockAt(START.plus(Duration.ofDays(360))));
        assertContentsEqual(original, fileContents(temp));

        // 27 days left: renewed, by the same CA.
        Instant later = START.plus(Duration.ofDays(370));
        GatewayCertificates renewed = GatewayCertificates.loadOrCreate(temp, DOMAIN, null, null, clockAt(later));
        assertArrayEquals(ca, Files.readAllBytes(temp.resolve("ca.pem")));
        assertEquals(later.plus(Duration.ofDays(397)), renewed.chain()[0].getNotAfter().toInstant());
        assertEquals(renewed.chain()[0], readCertificates(temp.resolve("gateway.pem")).get(0));
        renewed.chain()[0].verify(renewed.chain()[1].getPublicKey());
    }

    @Test
    void expiringCaIsReplacedAndTheLeafReissuedUnderIt() throws Exception {
        X509Certificate oldCa = GatewayCertificates.loadOrCreate(temp, DOMAIN, null, null, clockAt(START)).chain()[1];

        Instant nearCaExpiry = START.plus(Duration.ofDays(3652 - 20));
        GatewayCertificates later = GatewayCertificates.loadOrCreate(temp, DOMAIN, null, null, clockAt(nearCaExpiry));

        X509Certificate newCa = readCertificates(temp.resolve("ca.pem")).get(0);
        assertNotEquals(oldCa, newCa);
        assertEquals(newCa, later.chain()[1]);
        later.chain()[0].verify(newCa.getPublicKey());
    }

    @Test
    void corruptLeafKeyIsReplacedAndTheCaKept() throws Exception {
        GatewayCertificates.loadOrCreate(temp, DOMAIN, null, null);
        byte[] ca = Files.readAllBytes(temp.resolve("ca.pem"));
        byte[] leaf = Files.readAllBytes(temp.resolve("gateway.pem"));
        Files.writeString(temp.resolve("gateway-key.pem"), "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n");

        GatewayCertificates repaired = GatewayCertificates.loadOrCreate(temp, DOMAIN, null, null);

        assertArrayEquals(ca, Files.readAllBytes(temp.resolve("ca.pem")));
        assertFalse(Arrays.equals(leaf, Files.readAllBytes(temp.resolve("gateway.pem"))));
        assertEquals(repaired.key(), PemFiles.readPrivateKey(temp.resolve("gateway-key.pem")));
        assertTrue(GatewayCertificates.keyMatches(repaired.key(), repaired.chain()[0].getPublicKey()));
    }

    @Test
    void leafKeyThatIsNotTheLeafsIsReplaced() throws Exception {
        GatewayCertificates.loadOrCreate(temp, DOMAIN, null, null);
        byte[] leaf = Files.readAllBytes(temp.resolve("gateway.pem"));
        Files.copy(temp.resolve("ca-key.pem"), temp.resolve("gateway-key.pem"), StandardCopyOption.REPLACE_EXISTING);

        GatewayCertificates repaired = GatewayCertificates.loadOrCreate(temp, DOMAIN, null, null);

        assertFalse(Arrays.equals(leaf, Files.readAllBytes(temp.resolve("gateway.pem"))));
        assertTrue(GatewayCertificates.keyMatches(repaired.key(), repaired.chain()[0].getPublicKey()));
    }

    @Test
    void leafOfAnotherCaIsReplaced() throws Exception {
        Path elsewhere = temp.resolve("elsewhere");
        GatewayCertificates.loadOrCreate(elsewhere, DOMAIN, null, null);
        Path mine = temp.resolve("mine");
        GatewayCertificates.loadOrCreate(mine, DOMAIN, null, null);
        for (String file : new String[] {"gateway.pem", "gateway-key.pem"}) {
            Files.copy(elsewhere.resolve(file), mine.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }

        GatewayCertificates repaired = GatewayCertificates.loadOrCreate(mine, DOMAIN, null, null);

        X509Certificate myCa = readCertificates(mine.resolve("ca.pem")).get(0);
        repaired.chain()[0].verify(myCa.getPublicKey());
        assertEquals(repaired.chain()[0], readCertificates(mine.resolve("gateway.pem")).get(0));
    }

    @Test
    void lostCaKeyMakesANewCaAndALeafItSigned() throws Exception {
        X509Certificate oldCa = GatewayCertificates.loadOrCreate(temp, DOMAIN, null, null).chain()[1];
        Files.delete(temp.resolve("ca-key.pem"));

        GatewayCertificates again = GatewayCertificates.loadOrCreate(temp, DOMAIN, null, null);

        assertNotEquals(oldCa, again.chain()[1]);
        again.chain()[0].verify(again.chain()[1].getPublicKey());
        assertEquals(Set.of("ca.pem", "ca-key.pem", "gateway.pem", "gateway-key.pem"), fileNames(temp));
    }

    @Test
    void opensslVerifiesTheLeafAgainstTheCaAndReadsTheKeys() throws Exception {
        GatewayCertificates.loadOrCreate(temp, DOMAIN, null, null);

        String verified = ExternalTool.succeed(temp, "openssl", "verify", "-x509_strict", "-purpose", "sslserver",
                "-CAfile", "ca.pem", "gateway.pem");
        assertEquals("gateway.pem: OK", verified.strip());
        String hostCheck = ExternalTool.succeed(temp, "openssl", "x509", "-in", "gateway.pem", "-noout",
                "-checkhost", "abc.compute.example.test");
        assertTrue(hostCheck.contains("does match certificate"), hostCheck);
        // The key files are the certificates' keys, as openssl reads them.
        assertEquals(ExternalTool.succeed(temp, "openssl", "x509", "-in", "gateway.pem", "-noout", "-pubkey"),
                ExternalTool.succeed(temp, "openssl", "pkey", "-in", "gateway-key.pem", "-pubout"));
        assertEquals(ExternalTool.succeed(temp, "openssl", "x509", "-in", "ca.pem", "-noout", "-pubkey"),
                ExternalTool.succeed(temp, "openssl", "pkey", "-in", "ca-key.pem", "-pubout"));
    }

    @Test
    void configuredPkcs8EcFilesMadeByOpensslAreUsed() throws Exception {
        ExternalTool.succeed(temp, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-days", "30",
                "-subj", "/CN=compute.example.test",
                "-addext", "subjectAltName=DNS:*.compute.example.test,DNS:compute.example.test");
        assertTrue(Files.readString(temp.resolve("key.pem")).contains("BEGIN PRIVATE KEY"), "PKCS#8");
        Path unused = temp.resolve("unused");

        GatewayCertificates configured = GatewayCertificates.loadOrCreate(unused, DOMAIN,
                temp.resolve("cert.pem").toString(), temp.resolve("key.pem").toString());

        assertNull(configured.caFile());
        assertEquals(readCertificates(temp.resolve("cert.pem")), List.of(configured.chain()));
        assertTrue(GatewayCertificates.keyMatches(configured.key(), configured.chain()[0].getPublicKey()));
        assertFalse(Files.exists(unused), "no local CA is made when files are configured");
    }

    @Test
    void configuredTraditionalEcKeyWithParametersBlockIsRead() throws Exception {
        ExternalTool.succeed(temp, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-out", "key.pem");
        String keyText = Files.readString(temp.resolve("key.pem"));
        assertTrue(keyText.contains("BEGIN EC PARAMETERS") && keyText.contains("BEGIN EC PRIVATE KEY"), keyText);
        selfSign("key.pem", "cert.pem");

        GatewayCertificates configured = GatewayCertificates.loadOrCreate(temp.resolve("unused"), DOMAIN,
                temp.resolve("cert.pem").toString(), temp.resolve("key.pem").toString());

        assertEquals("EC", configured.key().getAlgorithm());
        assertTrue(GatewayCertificates.keyMatches(configured.key(), configured.chain()[0].getPublicKey()));
    }

    @Test
    void configuredTraditionalRsaKeyIsRead() throws Exception {
        ExternalTool.succeed(temp, "openssl", "genrsa", "-traditional", "-out", "key.pem", "2048");
        assertTrue(Files.readString(temp.resolve("key.pem")).contains("BEGIN RSA PRIVATE KEY"));
        selfSign("key.pem", "cert.pem");

        GatewayCertificates configured = GatewayCertificates.loadOrCreate(temp.resolve("unused"), DOMAIN,
                temp.resolve("cert.pem").toString(), temp.resolve("key.pem").toString());

        assertEquals("RSA", configured.key().getAlgorithm());
        assertTrue(GatewayCertificates.keyMatches(configured.key(), configured.chain()[0].getPublicKey()));
    }

    @Test
    void configuredChainKeepsItsOrderLeafFirst() throws Exception {
        ExternalTool.succeed(temp, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "30",
                "-subj", "/CN=operator CA");
        ExternalTool.succeed(temp, "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", "key.pem", "-out", "leaf.csr", "-subj", "/CN=compute.example.test");
        ExternalTool.succeed(temp, "openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey",
                "ca-key.pem", "-CAcreateserial", "-days", "30", "-out", "leaf.pem");
        Files.writeString(temp.resolve("chain.pem"),
                Files.readString(temp.resolve("leaf.pem")) + Files.readString(temp.resolve("ca.pem")));

        GatewayCertificates configured = GatewayCertificates.loadOrCreate(temp.resolve("unused"), DOMAIN,
                temp.resolve("chain.pem").toString(), temp.resolve("key.pem").toString());

        X509Certificate[] chain = configured.chain();
        assertEquals(2, chain.length);
        assertEquals("CN=compute.example.test", chain[0].getSubjectX500Principal().getName());
        assertEquals("CN=operator CA", chain[1].getSubjectX500Principal().getName());
    }

    @Test
    void configuredKeyOfAnotherCertificateIsRefused() throws Exception {
        ExternalTool.succeed(temp, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "key.pem");
        ExternalTool.succeed(temp, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "other.pem");
        selfSign("key.pem", "cert.pem");

        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> GatewayCertificates.loadOrCreate(temp.resolve("unused"), DOMAIN,
                        temp.resolve("cert.pem").toString(), temp.resolve("other.pem").toString()));
        assertTrue(refused.getMessage().contains("does not belong"), refused.getMessage());
    }

    @Test
    void configuredEncryptedKeyOrMissingFileIsRefusedWithTheReason() throws Exception {
        ExternalTool.succeed(temp, "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-aes256", "-pass", "pass:secret", "-out", "key.pem");
        selfSignWithPassword("key.pem", "cert.pem", "secret");
        String cert = temp.resolve("cert.pem").toString();

        IllegalArgumentException encrypted = assertThrows(IllegalArgumentException.class,
                () -> GatewayCertificates.loadOrCreate(temp.resolve("unused"), DOMAIN, cert,
                        temp.resolve("key.pem").toString()));
        assertTrue(encrypted.getMessage().contains("encrypted"), encrypted.getMessage());

        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> GatewayCertificates.loadOrCreate(temp.resolve("unused"), DOMAIN, cert,
                        temp.resolve("no-such-key.pem").toString()));
        assertTrue(missing.getMessage().contains("no-such-key.pem"), missing.getMessage());
    }

    @Test
    void onlyOneConfiguredFileFallsBackToTheLocalCa() throws Exception {
        Path directory = temp.resolve("tls");

        GatewayCertificates certificates = GatewayCertificates.loadOrCreate(directory, DOMAIN,
                temp.resolve("cert.pem").toString(), "  ");

        assertEquals(directory.resolve("ca.pem"), certificates.caFile());
        assertTrue(Files.exists(directory.resolve("gateway.pem")));
    }

    // --- helpers

    private void selfSign(String keyFile, String certFile) throws Exception {
        ExternalTool.succeed(temp, "openssl", "req", "-x509", "-key", keyFile, "-out", certFile, "-days", "30",
                "-subj", "/CN=compute.example.test",
                "-addext", "subjectAltName=DNS:*.compute.example.test,DNS:compute.example.test");
    }

    private void selfSignWithPassword(String keyFile, String certFile, String password) throws Exception {
        ExternalTool.succeed(temp, "openssl", "req", "-x509", "-key", keyFile, "-passin", "pass:" + password,
                "-out", certFile, "-days", "30", "-subj", "/CN=compute.example.test");
    }

    static Clock clockAt(Instant instant) {
        return Clock.fixed(instant, ZoneOffset.UTC);
    }

    static List<X509Certificate> readCertificates(Path file) throws Exception {
        try (InputStream in = Files.newInputStream(file)) {
            return CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
                    .map(X509Certificate.class::cast).toList();
        }
    }

    static List<String> dnsNames(X509Certificate certificate) throws Exception {
        Collection<List<?>> names = certificate.getSubjectAlternativeNames();
        List<String> dns = new ArrayList<>();
        for (List<?> name : names) {
            if (Integer.valueOf(2).equals(name.get(0))) {
                dns.add((String) name.get(1));
            }
        }
        return dns;
    }

    private static byte[] subjectKeyId(X509Certificate certificate) throws Exception {
        return SubjectKeyIdentifier.fromExtensions(new X509CertificateHolder(certificate.getEncoded()).getExtensions())
                .getKeyIdentifier();
    }

    private static byte[] authorityKeyId(X509Certificate certificate) throws Exception {
        return AuthorityKeyIdentifier.fromExtensions(new X509CertificateHolder(certificate.getEncoded()).getExtensions())
                .getKeyIdentifier();
    }

    private static String mode(Path path) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }

    private static Set<String> fileNames(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(file -> file.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    /** The four files' bytes in a fixed order. */
    private static List<byte[]> fileContents(Path directory) throws IOException {
        List<byte[]> contents = new ArrayList<>();
        for (String file : new String[] {"ca.pem", "ca-key.pem", "gateway.pem", "gateway-key.pem"}) {
            contents.add(Files.readAllBytes(directory.resolve(file)));
        }
        return contents;
    }

    private static void assertContentsEqual(List<byte[]> expected, List<byte[]> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), "file " + i + " changed");
        }
    }
}
