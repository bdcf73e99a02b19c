/// Charts for the console, drawn on the server as inline SVG: no script, no library, nothing
/// fetched at run time, readable with JavaScript off. Text that came from data is escaped here,
/// because the SVG reaches the page unescaped (as markup).
enum SVGChart {
    struct Series: Sendable {
        let name: String
        let color: String
    }

    /// One bar: a label under it and one value per series, stacked bottom up.
    struct Bar: Sendable {
        let label: String
        let values: [Int]
    }

    /// A stacked bar chart with a legend; an empty chart says so instead of drawing nothing.
    static func stackedBars(title: String, series: [Series], bars: [Bar], width: Int = 640, height: Int = 200) -> String {
        let top = 24
        let bottom = 28
        let left = 44
        let right = 8
        let plotHeight = height - top - bottom
        let plotWidth = width - left - right
        let maximum = max(1, bars.map { $0.values.reduce(0, +) }.max() ?? 0)
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">"
        svg += "<title>\(escape(title))</title>"
        // Legend along the top.
        var legendX = left
        for item in series {
            svg += "<rect x=\"\(legendX)\" y=\"6\" width=\"10\" height=\"10\" fill=\"\(item.color)\"/>"
            svg += "<text x=\"\(legendX + 14)\" y=\"15\" font-size=\"11\">\(escape(item.name))</text>"
            legendX += 24 + item.name.count * 7
        }
        // Axis with the maximum and zero.
        svg += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(top + plotHeight)\" stroke=\"#999\"/>"
        svg += "<line x1=\"\(left)\" y1=\"\(top + plotHeight)\" x2=\"\(left + plotWidth)\" y2=\"\(top + plotHeight)\" stroke=\"#999\"/>"
        svg += "<text x=\"\(left - 4)\" y=\"\(top + 10)\" font-size=\"10\" text-anchor=\"end\">\(maximum)</text>"
        svg += "<text x=\"\(left - 4)\" y=\"\(top + plotHeight)\" font-size=\"10\" text-anchor=\"end\">0</text>"
        guard !bars.isEmpty else {
            svg +=
                "<text x=\"\(left + plotWidth / 2)\" y=\"\(top + plotHeight / 2)\" font-size=\"12\" text-anchor=\"middle\" fill=\"#666\">no data yet</text></svg>"
            return svg
        }
        let slot = Double(plotWidth) / Double(bars.count)
        let barWidth = max(1.0, slot * 0.8)
        // Label every bar when they fit, else about ten of them.
        let labelEvery = max(1, bars.count / 10)
        for (index, bar) in bars.enumerated() {
            let x = Double(left) + Double(index) * slot + (slot - barWidth) / 2
            var y = Double(top + plotHeight)
            for (seriesIndex, value) in bar.values.enumerated() where value > 0 && seriesIndex < series.count {
                let h = Double(plotHeight) * Double(value) / Double(maximum)
                y -= h
                svg += "<rect x=\(format(x)) y=\(format(y)) width=\(format(barWidth)) height=\(format(h)) fill=\"\(series[seriesIndex].color)\">"
                svg += "<title>\(escape(bar.label)) \(escape(series[seriesIndex].name)): \(value)</title></rect>"
            }
            if index % labelEvery == 0 {
                svg +=
                    "<text x=\(format(x + barWidth / 2)) y=\"\(top + plotHeight + 14)\" font-size=\"10\" text-anchor=\"middle\">\(escape(bar.label))</text>"
            }
        }
        return svg + "</svg>"
    }

    private static func format(_ value: Double) -> String {
        "\"" + String(Double(Int(value * 10)) / 10) + "\""
    }

    /// XML text and attribute escaping.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
