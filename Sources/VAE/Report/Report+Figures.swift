import Foundation

/// One set of points of an x-y plot.
public struct PlotSeries: Sendable {
    public var name: String
    public var color: String
    public var points: [(x: Double, y: Double)]
    /// A label written beside each point (e.g. the beta of a rate-distortion point), or none.
    public var pointLabels: [String]?
    /// Join the points with a line (else markers only).
    public var line: Bool

    public init(_ name: String, color: String, points: [(x: Double, y: Double)], pointLabels: [String]? = nil,
                line: Bool = true) {
        self.name = name
        self.color = color
        self.points = points
        self.pointLabels = pointLabels
        self.line = line
    }

    /// Ten colors that tell classes apart (matplotlib's tab10).
    public static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                 "#bcbd22", "#17becf"]
}

extension Report {
    /// An HTML section: a heading and a table of strings.
    public func table(_ heading: String, headers: [String], rows: [[String]]) -> String {
        var out = "<h2>\(escape(heading))</h2><table border=\"1\" style=\"border-collapse:collapse\"><tr>"
        out += headers.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"
        for row in rows { out += "<tr>" + row.map { "<td>\(escape($0))</td>" }.joined() + "</tr>" }
        return out + "</table>"
    }

    /// An HTML section: a heading and an inline SVG x-y plot of the series with labelled axes
    /// (the y axis from 0 when `yFromZero` and every value is positive).
    public func plot(_ heading: String, series: [PlotSeries], xLabel: String, yLabel: String, yFromZero: Bool = false) -> String {
        let w = 640.0, h = 370.0, left = 70.0, bottom = 45.0, top = 30.0, right = 170.0
        let all = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        guard let x0 = all.map(\.x).min(), let x1 = all.map(\.x).max(), var y0 = all.map(\.y).min(),
              let y1 = all.map(\.y).max() else { return "" }
        if yFromZero, y0 > 0 { y0 = 0 }
        let xs = x1 > x0 ? x1 - x0 : 1, ys = y1 > y0 ? y1 - y0 : 1
        func px(_ v: Double) -> Double { left + (v - x0) / xs * (w - left - right) }
        func py(_ v: Double) -> Double { top + (1 - (v - y0) / ys) * (h - top - bottom) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var svg = "<h2>\(escape(heading))</h2><svg width=\"\(Int(w))\" height=\"\(Int(h))\" xmlns=\"http://www.w3.org/2000/svg\">"
        svg += "<line x1=\"\(left)\" y1=\"\(h - bottom)\" x2=\"\(w - right)\" y2=\"\(h - bottom)\" stroke=\"#888\"/>"
        svg += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(h - bottom)\" stroke=\"#888\"/>"
        for t in 0...4 {
            let vx = x0 + xs * Double(t) / 4, vy = y0 + ys * Double(t) / 4
            svg += "<text x=\"\(f(px(vx) - 12))\" y=\"\(f(h - bottom + 14))\">\(String(format: "%.3g", vx))</text>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(py(vy) + 4))\" text-anchor=\"end\">\(String(format: "%.3g", vy))</text>"
        }
        svg += "<text x=\"\(f((left + w - right) / 2))\" y=\"\(f(h - 6))\" text-anchor=\"middle\">\(escape(xLabel))</text>"
        svg += "<text x=\"4\" y=\"14\">\(escape(yLabel))</text>"
        for (k, s) in series.enumerated() {
            let points = s.points.filter { $0.x.isFinite && $0.y.isFinite }
            if s.line, points.count > 1 {
                let path = points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
                svg += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\" points=\"\(path)\"/>"
            }
            for (i, p) in s.points.enumerated() where p.x.isFinite && p.y.isFinite {
                svg += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"\(s.line ? 3 : 1.6)\" fill=\"\(s.color)\"/>"
                if let label = s.pointLabels?[i] {
                    svg += "<text x=\"\(f(px(p.x) + 5))\" y=\"\(f(py(p.y) - 5))\">\(escape(label))</text>"
                }
            }
            svg += "<text x=\"\(w - right + 10)\" y=\"\(top + 16 * Double(k) + 10)\" fill=\"\(s.color)\">\(escape(s.name))</text>"
        }
        return svg + "</svg>"
    }
}
