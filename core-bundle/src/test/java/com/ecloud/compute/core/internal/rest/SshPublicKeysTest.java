package com.ecloud.compute.core.internal.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import com.ecloud.compute.core.internal.http.ApiException;

/** Keys generated with ssh-keygen; the expected fingerprint is what ssh-keygen -l printed. */
class SshPublicKeysTest {

    private static final String ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJkJ39ua3MmErsC95G+V2aUG6toTvWh+papq9VXxoqt+ me@laptop";
    private static final String RSA_1024 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDMlBeJNnvNnbIFcw4Lyp9PhmQHaron+E6Eaw8UZ6X6WSZg/7dgx6MhBaYoIEn/j7uJm/Q5GbQlOmJRVPParEnctC8E75PH4GtYAnr+h6hbn2Uz3/2EJavhkeGjJs96clLF7mRL4yxL2PEazYUAsm4lHiJYEaryb50dGJTY8ELGGQ== root@vm";
    private static final String ECDSA_384 = "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBJoPGbEkylyt7GqQydyoZPU5e5inIf4JC+Y3Hw0B+Zq+NQav4ml+H6Wodc4UaeYRRRjBiyXC7xO48XwDRa9HmFxMnTUgvwMxvJFcoq0uOoyf8xQD66B5TJ5UTHaPRl9YBA== root@vm";

    @Test
    void fingerprintMatchesOpenSsh() {
        SshPublicKeys.Parsed k = SshPublicKeys.parse(ED25519);
        assertEquals("SHA256:DjpCVcpxDsk9bmblsdnMMSruyvE6Jl17Ch6ijkGEfLg", k.fingerprint());
        assertEquals(ED25519, k.line());
    }

    @Test
    void acceptsEcdsa() {
        assertEquals("ecdsa-sha2-nistp384", SshPublicKeys.parse(ECDSA_384).line().split(" ")[0]);
    }

    @Test
    void refusesWeakRsaUnknownTypesAndGarbage() {
        assertEquals(422, assertThrows(ApiException.class, () -> SshPublicKeys.parse(RSA_1024)).status());
        assertEquals(422, assertThrows(ApiException.class, () -> SshPublicKeys.parse("ssh-dss AAAAB3NzaC1kc3M=")).status());
        assertEquals(400, assertThrows(ApiException.class, () -> SshPublicKeys.parse("ssh-ed25519 not*base64")).status());
        assertEquals(400, assertThrows(ApiException.class, () -> SshPublicKeys.parse("ssh-ed25519 AAAA")).status());
        // the blob says ecdsa but the line says ed25519
        String blob = ECDSA_384.split(" ")[1];
        assertEquals(400, assertThrows(ApiException.class, () -> SshPublicKeys.parse("ssh-ed25519 " + blob)).status());
        assertEquals(400, assertThrows(ApiException.class, () -> SshPublicKeys.parse(ED25519 + "\nssh-ed25519 x")).status());
    }
}
