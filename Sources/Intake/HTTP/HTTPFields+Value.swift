import HTTPTypes

extension HTTPFields {
    /// The value of a field, as `self[name]` gives it, without copying it.
    ///
    /// `self[name]` joins the values of every field of that name into a new string, also when
    /// there is only one: for the bearer token of every request (two hundred bytes) that was a
    /// copy and an allocation. A field that appears more than once is still joined the same way.
    func value(of name: HTTPField.Name) -> String? {
        var value: String?
        for field in self where field.name == name {
            if value != nil { return self[name] }
            value = field.value
        }
        return value
    }
}
