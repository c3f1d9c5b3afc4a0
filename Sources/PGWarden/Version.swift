import CBuildInfo

/// pgwarden's version, as shown by --version and pgwarden_build_info.
public enum PGWardenVersion {
    public static let current = "0.1.0"
}

/// How this binary was built, stamped by scripts/stamp-build.sh (see CBuildInfo): "unknown"
/// where the build was not stamped.
public enum BuildInfo {
    public static let revision = String(cString: pgw_build_revision())
    public static let branch = String(cString: pgw_build_branch())
    public static let user = String(cString: pgw_build_user())
    public static let date = String(cString: pgw_build_date())
    public static let swiftVersion = String(cString: pgw_build_swift_version())
    public static let platform = String(cString: pgw_build_platform())

    /// `pgwarden --version`, in the form Prometheus' exporters print.
    public static var versionText: String {
        """
        pgwarden, version \(PGWardenVersion.current) (branch: \(branch), revision: \(revision))
          build user:       \(user)
          build date:       \(date)
          swift version:    \(swiftVersion)
          platform:         \(platform)
        """
    }
}
