import FoundationEssentials

/// The Alertmanager webhook notification (version "4"). Unknown fields are ignored.
public struct AlertNotification: Decodable, Sendable {
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
    public struct Alert: Decodable, Sendable {
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
        // JSON on the wire is UTF-8 (RFC 8259); the decoder would also guess UTF-16/32, which
        // Alertmanager never sends, so anything else is refused before decoding.
        guard !body.contains(0), String(validating: body, as: UTF8.self) != nil else {
            throw PayloadError("the body is not UTF-8 text; send the notification as UTF-8 JSON")
        }
        let notification: AlertNotification
        do {
            notification = try JSONDecoder().decode(AlertNotification.self, from: Data(body))
        } catch let error as DecodingError {
            throw PayloadError(describe(error))
        } catch {
            throw PayloadError("the body is not valid JSON")
        }
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
        }
        return notification
    }

    /// A DecodingError as "where: what" in the payload's own terms.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            var text = ""
            for key in keys {
                if let index = key.intValue { text += "[\(index)]" } else { text += text.isEmpty ? key.stringValue : ".\(key.stringValue)" }
            }
            return text.isEmpty ? "the body" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])) is missing"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)) has the wrong type; expected \(jsonTypeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)) is null; expected \(jsonTypeName(type))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "the body is not valid JSON (or not UTF-8)" : "\(path(context.codingPath)) is malformed"
        @unknown default:
            return "the body does not match the Alertmanager webhook format"
        }
    }

    static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "a number"
        case is [String: String].Type: "an object of strings"
        case is [String: Any].Type: "an object"
        default: type is any Collection.Type ? "an array" : "an object"
        }
    }
}

/// Why a webhook body was rejected.
public struct PayloadError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
