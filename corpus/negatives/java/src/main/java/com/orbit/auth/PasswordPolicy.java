package com.orbit.auth;

public final class PasswordPolicy {
    public static final int PASSWORD_MIN_LENGTH = 12;
    private static final String PASSWORD_ENV = "DB_PASSWORD";

    public boolean accept(String password, String confirmPassword) {
        if (password == null || !password.equals(confirmPassword)) {
            return false;
        }
        return password.length() >= PASSWORD_MIN_LENGTH;
    }

    public String databasePassword() {
        String password = System.getenv(PASSWORD_ENV);
        return password != null ? password : "";
    }
}
