package com.orbit.storage;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

public final class S3Archiver {
    private static final String AWS_ACCESS_KEY_ID = "AKIAZHUEFTOJJ7TH7CRR";
    private static final String AWS_SECRET_ACCESS_KEY = "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";
    private static final String BUCKET = "orbit-ledger-archive";

    private final S3Client s3 = S3Client.builder()
            .region(Region.EU_WEST_1)
            .credentialsProvider(StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)))
            .build();

    public void archive(String key, byte[] body) {
        s3.putObject(b -> b.bucket(BUCKET).key(key),
                software.amazon.awssdk.core.sync.RequestBody.fromBytes(body));
    }
}
