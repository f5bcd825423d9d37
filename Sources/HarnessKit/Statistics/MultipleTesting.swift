import Foundation

extension Statistics {
    /// Holm's step-down adjusted p-values, in the order given (statsmodels
    /// multipletests(p, method="holm")[1]; pingouin multicomp's default).
    ///
    /// With the m p-values sorted ascending, p̃₍ᵢ₎ = max over j <= i of
    /// min(1, (m - j + 1)·p₍ⱼ₎): monotone in the sorted order, capped at 1, then put back
    /// in input order. Rejecting where p̃ <= α controls the family-wise error rate at α
    /// for any dependence between the tests. Equal p-values get equal adjusted values,
    /// whatever order the sort leaves them in.
    ///
    /// Throws for a NaN or a value outside [0, 1]; an empty list gives an empty list.
    public static func holmAdjusted(_ pValues: [Double]) throws(InputError) -> [Double] {
        if let index = pValues.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
            throw .invalidArgument("p-value \(index) is \(pValues[index]), not in [0, 1]")
        }
        let m = pValues.count
        let order = pValues.indices.sorted { pValues[$0] < pValues[$1] }
        var adjusted = [Double](repeating: 0, count: m)
        var running = 0.0
        for (rank, index) in order.enumerated() {
            running = max(running, min(1, Double(m - rank) * pValues[index]))
            adjusted[index] = running
        }
        return adjusted
    }
}
