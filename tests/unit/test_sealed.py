from hub.sealed import PREFIX, seal, unseal

KEY = "a-long-secret-key-for-the-instance"


def test_sealed_values_round_trip_and_hide_the_secret():
    sealed = seal("hub-secret", KEY)
    assert sealed.startswith(PREFIX) and "hub-secret" not in sealed
    assert unseal(sealed, KEY) == "hub-secret"
    assert seal("hub-secret", KEY) != sealed  # a fresh nonce each time


def test_another_key_opens_nothing():
    assert unseal(seal("hub-secret", KEY), "another-key-entirely-different") == ""


def test_values_from_before_sealing_read_back_as_they_are():
    assert unseal("plain-old-secret", KEY) == "plain-old-secret"
    assert seal("", KEY) == ""
