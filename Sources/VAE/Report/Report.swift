import Foundation
import ImageIO

/// RUN_DIR/report.html: loss curves as inline SVG and image grids as embedded PNGs, so the
/// page works offline in any browser.
public struct Report {
    public var title: String
    public var summary: [(String, String)] = []
    public var history: [EpochMetrics] = []
    /// HTML fragments (tables, plots; see Report+Figures.swift) between the summary and the pictures.
    public var sections: [String] = []
    public var panels: [(String, Image)] = []

    public init(title: String) { self.title = title }

    /// The page's HTML.
    public func html() throws -> String {
        var out = """
        <!doctype html><html><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>body{font-family:sans-serif;margin:2em;max-width:1100px}td,th{padding:2px 10px;text-align:left}
        img{image-rendering:pixelated;border:1px solid #ccc;max-width:100%}figure{display:inline-block;margin:1em}
        svg text{font-size:11px}</style></head><body><h1>\(escape(title))</h1>
        """
        out += "<table>" + summary.map { "<tr><th>\(escape($0.0))</th><td>\(escape($0.1))</td></tr>" }.joined() + "</table>"
        out += sections.joined()
        if !history.isEmpty {
            out += "<h2>Loss per epoch (nats per image)</h2>"
            out += chart(series: [("train -ELBO", "#1f77b4", history.map(\.trainLoss)),
                                  ("validation -ELBO", "#d62728", history.map(\.valLoss))])
            out += chart(series: [("train KL", "#2ca02c", history.map(\.trainKL)),
                                  ("train reconstruction", "#9467bd", history.map(\.trainReconstruction))])
        }
        for (caption, image) in panels {
            let scale = max(1, 512 / max(image.width, 1))
            let png = try image.encodePNG().base64EncodedString()
            out += "<figure><img src=\"data:image/png;base64,\(png)\" width=\"\(image.width * min(scale, 4))\">"
            out += "<figcaption>\(escape(caption))</figcaption></figure>"
        }
        return out + "</body></html>\n"
    }

    /// Writes the page atomically.
    public func write(to path: String) throws {
        try FileIO.writeAtomically(Array(try html().utf8), to: path)
    }

    /// A line chart of several series against the epoch.
    func chart(series: [(String, String, [Double])]) -> String {
        let w = 640.0, h = 260.0, left = 60.0, bottom = 30.0, top = 20.0, right = 150.0
        let values = series.flatMap(\.2).filter(\.isFinite)
        guard let lo = values.min(), let hi = values.max(), let n = series.map(\.2.count).max(), n > 0 else { return "" }
        let span = hi > lo ? hi - lo : 1
        func x(_ i: Int) -> Double { left + (n == 1 ? 0 : Double(i) / Double(n - 1)) * (w - left - right) }
        func y(_ v: Double) -> Double { top + (1 - (v - lo) / span) * (h - top - bottom) }
        var svg = "<svg width=\"\(Int(w))\" height=\"\(Int(h))\" xmlns=\"http://www.w3.org/2000/svg\">"
        svg += "<line x1=\"\(left)\" y1=\"\(h - bottom)\" x2=\"\(w - right)\" y2=\"\(h - bottom)\" stroke=\"#888\"/>"
        svg += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(h - bottom)\" stroke=\"#888\"/>"
        for v in [lo, (lo + hi) / 2, hi] {
            svg += "<text x=\"4\" y=\"\(y(v) + 4)\">\(String(format: "%.2f", v))</text>"
        }
        svg += "<text x=\"\(left)\" y=\"\(h - 8)\">epoch 1</text><text x=\"\(w - right - 50)\" y=\"\(h - 8)\">epoch \(n)</text>"
        for (k, (name, color, data)) in series.enumerated() {
            let points = data.enumerated().filter { $0.element.isFinite }
                .map { String(format: "%.1f,%.1f", x($0.offset), y($0.element)) }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points)\"/>"
            svg += "<text x=\"\(w - right + 8)\" y=\"\(top + 16 * Double(k) + 10)\" fill=\"\(color)\">\(escape(name))</text>"
        }
        return svg + "</svg>"
    }

    func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}

extension Array where Element == UInt8 {
    func base64EncodedString() -> String { Data(self).base64EncodedString() }
}
