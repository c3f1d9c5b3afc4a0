/// pgwarden's version, as shown by --version and pgwarden_build_info.
public enum PGWardenVersion {
    public static let current = "0.1.0"
}
