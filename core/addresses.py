"""The fields of a postal address, one list for saved addresses, checkout forms, orders and the API."""

ADDRESS_FIELDS = ("recipient_name", "phone", "province", "city", "district", "address_line", "postcode")
REQUIRED_ADDRESS_FIELDS = ("recipient_name", "phone", "province", "city", "address_line")
