/// The Alertmanager webhook notification (version "4"). Unknown fields are ignored (but must be
/// valid JSON).
public struct AlertNotification: Sendable {
    public var version: String
    public var status: String
    public var receiver: String?
    public var groupKey: String?
    public var truncatedAlerts: Int?
    public var groupLabels: [String: String]?
    public var commonLabels: [String: String]?
    public var commonAnnotations: [String: String]?
    public var externalURL: String?
    public var alerts: [Alert]

    /// One alert of the notification.
    public struct Alert: Sendable {
        public var status: String
        public var labels: [String: String]
        public var annotations: [String: String]?
        public var startsAt: String?
        public var endsAt: String?
        public var generatorURL: String?
        public var fingerprint: String?
    }

    /// The largest number of alerts accepted in one notification.
    public static let maxAlerts = 1000

    /// Decodes and validates a body; the error says what is wrong, for a 400 response.
    public static func decode(_ body: [UInt8]) throws(PayloadError) -> AlertNotification {
        guard !body.isEmpty else { throw PayloadError("the body is empty; send an Alertmanager webhook notification (JSON)") }
        // JSON on the wire is UTF-8 (RFC 8259 §8.1); anything else (UTF-16/32, which Alertmanager
        // never sends) is refused before reading, with a message that says so. So is a NUL byte.
        let invalid = body.withUnsafeBufferPointer { UTF8Validation.firstInvalidOffset(in: $0) }
        if let offset = [invalid, body.firstIndex(of: 0)].compactMap({ $0 }).min() {
            throw PayloadError("the body is not UTF-8 text (at byte \(offset)); send the notification as UTF-8 JSON")
        }
        let document: JSONValue
        do {
            document = try JSONReader.read(body)
        } catch {
            throw PayloadError(describe(error))
        }
        let notification = try AlertNotification(document)
        guard notification.version == "4" else {
            throw PayloadError("version is \"\(notification.version)\"; pgwarden understands Alertmanager's webhook version \"4\"")
        }
        guard notification.status == "firing" || notification.status == "resolved" else {
            throw PayloadError("status is \"\(notification.status)\"; expected \"firing\" or \"resolved\"")
        }
        guard notification.alerts.count <= maxAlerts else {
            throw PayloadError("\(notification.alerts.count) alerts in one notification; at most \(maxAlerts) are accepted (set max_alerts in Alertmanager's webhook_config)")
        }
        for (i, alert) in notification.alerts.enumerated() {
            guard alert.status == "firing" || alert.status == "resolved" else {
                throw PayloadError("alerts[\(i)].status is \"\(alert.status)\"; expected \"firing\" or \"resolved\"")
            }
            guard let name = alert.labels["alertname"], !name.isEmpty else {
                throw PayloadError("alerts[\(i)].labels has no alertname")
            }
            if let problem = nulProblem(alert.labels, path: "alerts[\(i)].labels") { throw PayloadError(problem) }
        }
        return notification
    }

    /// Why `labels` (at `path`) are refused: a NUL character in a label name or value. Labels
    /// select sessions and reach PostgreSQL as C strings, in which a NUL ends the text early
    /// (`shop\u0000x` would be read as `shop`). The first such label in byte order of the names.
    static func nulProblem(_ labels: [String: String], path: String) -> String? {
        let sorted = labels.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        for (name, value) in sorted {
            if name.utf8.contains(0) {
                return "\(path) has the label name \(JSONText.quote(name)), which contains a NUL character (\\u0000); "
                    + "label names and values must not contain NUL"
            }
            if value.utf8.contains(0) {
                return "\(path).\(name) contains a NUL character (\\u0000); label names and values must not contain NUL"
            }
        }
        return nil
    }

    /// A JSON reader error in the payload's own terms: a syntax error with its byte, or the
    /// object (by path) and the key it repeats.
    static func describe(_ error: JSONReadError) -> String {
        guard let key = error.duplicateKey else { return "the body is not valid JSON: \(error.message)" }
        return "\(error.pathText(root: "the body")) has the key \(JSONText.quote(key)) twice (again at byte \(error.offset)); "
            + "a notification must not repeat a key, pgwarden does not guess which one counts"
    }
}

extension AlertNotification {
    /// The notification in `document`, its fields checked in the order they are declared (the
    /// first problem found is the one reported).
    init(_ document: JSONValue) throws(PayloadError) {
        let fields = try PayloadFields(document, path: "")
        version = try fields.string("version")
        status = try fields.string("status")
        receiver = try fields.optionalString("receiver")
        groupKey = try fields.optionalString("groupKey")
        truncatedAlerts = try fields.optionalInteger("truncatedAlerts")
        groupLabels = try fields.optionalStrings("groupLabels")
        commonLabels = try fields.optionalStrings("commonLabels")
        commonAnnotations = try fields.optionalStrings("commonAnnotations")
        externalURL = try fields.optionalString("externalURL")
        let items = try fields.array("alerts")
        var alerts: [Alert] = []
        alerts.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            alerts.append(try Alert(item, path: "alerts[\(i)]"))
        }
        self.alerts = alerts
    }
}

extension AlertNotification.Alert {
    /// The alert in `value` (at `path`, for messages), its fields checked in declaration order.
    init(_ value: JSONValue, path: String) throws(PayloadError) {
        let fields = try PayloadFields(value, path: path)
        status = try fields.string("status")
        labels = try fields.strings("labels")
        annotations = try fields.optionalStrings("annotations")
        startsAt = try fields.optionalString("startsAt")
        endsAt = try fields.optionalString("endsAt")
        generatorURL = try fields.optionalString("generatorURL")
        fingerprint = try fields.optionalString("fingerprint")
    }
}

/// Why a webhook body was rejected.
public struct PayloadError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
