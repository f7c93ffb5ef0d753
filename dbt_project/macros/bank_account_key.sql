{#- The identity of a bank account across bank sources (models/staging/bank/README.md): Open Finance's
    `account_id` is the bank's internal id, a statement file and an aggregator have their own, but every one of them
    names the account the FEBRABAN way: COMPE bank code, branch (agência), number and check digit (DV).
        bank_account_key = '<compe, 3 digits>:<branch digits>:<number digits>-<check digit>'
    Digits only, leading zeros dropped from branch and number (an OFX ACCTID "0012345", a CNAB 240 account
    "000000012345" and Open Finance's "12345" are one account), the COMPE code padded to 3 digits ("1", "001"
    and "0001" are Banco do Brasil), the check digit upper-cased (Banco do Brasil writes "X"), a missing branch
    (a payment account) empty. A source whose number carries its DV ("12345-6") splits it before staging. -#}
{% macro bank_account_key(compe_code, branch_code, number, check_digit) -%}
    concat(
        leftPad(
            coalesce(
                nullIf(replaceRegexpOne(replaceRegexpAll(coalesce({{ compe_code }}, ''), '[^0-9]', ''), '^0+', ''), ''),
                '0'
            ),
            3,
            '0'
        ),
        ':',
        replaceRegexpOne(replaceRegexpAll(coalesce({{ branch_code }}, ''), '[^0-9]', ''), '^0+', ''),
        ':',
        coalesce(
            nullIf(replaceRegexpOne(replaceRegexpAll(coalesce({{ number }}, ''), '[^0-9]', ''), '^0+', ''), ''), '0'
        ),
        '-',
        upperUTF8(replaceRegexpAll(coalesce({{ check_digit }}, ''), '[^0-9A-Za-z]', ''))
    )
{%- endmacro %}
