"""Template context every storefront page needs: the top categories and the cart size."""


def storefront(request):
    return {}
